-- Accounts: users, API tokens, per-host grants (a subject is a user or, later, a team),
-- failed logins, and small key/value facts about the installation.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash   TEXT    NOT NULL,
    admin           INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    -- Bumped when the password changes or the user is disabled: older sessions stop working.
    session_epoch   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_login_at   INTEGER
);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    -- SHA-256 of the secret; the secret itself is shown once and never stored.
    secret_hash     BLOB    NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER,
    expires_at      INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE grants (
    id              INTEGER PRIMARY KEY,
    host            TEXT    NOT NULL,
    subject_kind    TEXT    NOT NULL CHECK (subject_kind IN ('user', 'team')),
    subject_id      INTEGER NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'manager')),
    created_at      INTEGER NOT NULL,
    UNIQUE (host, subject_kind, subject_id)
);
CREATE INDEX grants_subject ON grants (subject_kind, subject_id);

CREATE TABLE login_failures (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    username        TEXT    NOT NULL,
    client          TEXT    NOT NULL
);

CREATE TABLE meta (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);
