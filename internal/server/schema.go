package server

// schemaTokens is the server's own table, created next to the store's
// schema in the same database (sqlstore never reads it). Timestamps are
// microseconds since the Unix epoch, 0 meaning "never", as in sqlstore.
// Only the SHA-256 of a token is kept: a database dump yields no usable
// token.
const schemaTokens = `
CREATE TABLE IF NOT EXISTS tokens (
	id TEXT PRIMARY KEY,
	hash TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	project TEXT NOT NULL,
	role TEXT NOT NULL,
	env TEXT NOT NULL DEFAULT '',
	read_only BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL DEFAULT 0,
	revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tokens_by_project ON tokens (project)
`
