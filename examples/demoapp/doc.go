// Package demoapp is a small, real webhook receiver whose signing key can be
// rotated without dropping a request. slickenv's demo and benchmarks run it;
// it is also meant to be copied.
//
// # Zero-downtime key rotation
//
// A sender signs each request body with HMAC-SHA256 and sends the result in
// the X-Signature header as "sha256=<hex>". The receiver accepts a request
// signed with WEBHOOK_SECRET or, while a rotation is in progress, with
// WEBHOOK_SECRET_PREVIOUS. That is the whole trick: slickenv's random
// provider writes the new key to WEBHOOK_SECRET and keeps the old one in
// WEBHOOK_SECRET_PREVIOUS for the verification window, so requests signed by
// senders that have not switched yet keep working; when the old key is
// revoked, WEBHOOK_SECRET_PREVIOUS disappears.
//
// # Reloading
//
// The receiver reads its keys from an env file (or, without one, from its
// process environment) at start and again on SIGHUP. A reload replaces the
// key set atomically: every request is checked against either the old set
// or the new one, never a mix. A reload that fails (missing file, no
// WEBHOOK_SECRET) keeps the keys already loaded. Key values never appear in
// logs or responses; GET /healthz reports only how many keys are loaded,
// when, and a generation counter that grows with every successful load.
//
// # Listening
//
// Run listens on Options.Listen, unless the process was started by systemd
// socket activation (LISTEN_FDS=1 and LISTEN_PID equal to its pid), in which
// case it serves on the socket passed as file descriptor 3.
//
// # Orders mode (PostgreSQL)
//
// With DATABASE_URL set (and no WEBHOOK_SECRET nor env file), the same
// program serves a small orders API on a pgx pool instead: GET /orders/{id},
// POST /orders and GET /healthz, which pings the database. It creates its
// table if missing and, on SIGTERM, finishes in-flight requests and then
// closes its database sessions. Run under `slickenv run --watch --listen`, a
// rotation of DATABASE_URL (postgres provider) starts a new process with the
// new role on the same socket, waits for its /healthz, and only then stops
// the old one: bench/rotate-under-load measures that no request fails.
package demoapp
