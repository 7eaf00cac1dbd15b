-- Replicas on one database share the work that must run once (fleet::sharing): each piece
-- (`monitor:<host slug>`) is done by the replica holding its lease until `expires_at` (unix
-- milliseconds of the database's clock), which that replica keeps renewing. SQLite has no such
-- table: one process serves it.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX leases_holder ON leases (holder);

-- Replicas count an account's failed sign-ins together (auth::Accounts::login).
CREATE INDEX login_failures_account ON login_failures (lower(username), at);
