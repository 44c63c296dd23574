package sqlstore

// schemaV1 is the schema shared by SQLite and PostgreSQL (DESIGN §3).
// Timestamps are BIGINT microseconds since the Unix epoch so that both
// engines store exactly the same values (and audit hashes verify on either).
// The dialect substitutes {{blob}} and {{autoid}}.
const schemaV1 = `
CREATE TABLE IF NOT EXISTS envs (
	id {{autoid}},
	project TEXT NOT NULL,
	name TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (project, name)
);
CREATE TABLE IF NOT EXISTS env_keys (
	env_id BIGINT NOT NULL REFERENCES envs(id),
	recipient TEXT NOT NULL,
	wrapped_dek {{blob}} NOT NULL,
	PRIMARY KEY (env_id, recipient)
);
CREATE TABLE IF NOT EXISTS env_versions (
	env_id BIGINT NOT NULL REFERENCES envs(id),
	version BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	kind TEXT NOT NULL,
	message TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (env_id, version)
);
CREATE TABLE IF NOT EXISTS value_versions (
	env_id BIGINT NOT NULL REFERENCES envs(id),
	name TEXT NOT NULL,
	env_version BIGINT NOT NULL,
	ciphertext {{blob}},
	fingerprint {{blob}},
	value_since BIGINT NOT NULL,
	actor TEXT NOT NULL,
	deleted BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (env_id, name, env_version)
);
CREATE INDEX IF NOT EXISTS value_versions_by_version ON value_versions (env_id, env_version);
CREATE TABLE IF NOT EXISTS rotations (
	id TEXT PRIMARY KEY,
	env_id BIGINT NOT NULL REFERENCES envs(id),
	name TEXT NOT NULL,
	provider TEXT NOT NULL,
	state TEXT NOT NULL,
	attempt INTEGER NOT NULL DEFAULT 1,
	pending_ciphertext {{blob}},
	old_meta TEXT NOT NULL DEFAULT '{}',
	new_meta TEXT NOT NULL DEFAULT '{}',
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	fence BIGINT NOT NULL DEFAULT 0,
	started_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS rotations_by_var ON rotations (env_id, name);
CREATE TABLE IF NOT EXISTS audit (
	project TEXT NOT NULL,
	seq BIGINT NOT NULL,
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	env TEXT NOT NULL,
	name TEXT NOT NULL,
	version BIGINT NOT NULL,
	outcome TEXT NOT NULL,
	detail_json TEXT NOT NULL,
	prev_hash {{blob}} NOT NULL,
	hash {{blob}} NOT NULL,
	PRIMARY KEY (project, seq)
);
CREATE TABLE IF NOT EXISTS audit_heads (
	project TEXT PRIMARY KEY,
	seq BIGINT NOT NULL,
	hash {{blob}} NOT NULL
);
`
