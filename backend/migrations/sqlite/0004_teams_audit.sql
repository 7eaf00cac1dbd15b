-- Teams (grants may name one), the audit log, and per-host guardrails for non-admins.

CREATE TABLE teams (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_at      INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id         INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at        INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

-- Append-only: the application inserts rows and the retention task deletes old ones; nothing
-- ever changes a row.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    user_id         INTEGER,
    username        TEXT,
    client          TEXT,
    host            TEXT,
    object          TEXT,
    action          TEXT    NOT NULL,
    -- JSON object of the parameters that matter, secrets redacted.
    params          TEXT    NOT NULL DEFAULT '{}',
    status          INTEGER NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed'))
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (username, id);
CREATE INDEX audit_log_host ON audit_log (host, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit rows are never changed');
END;

-- What non-admins may ask of a host's engine when they create or recreate a container. Every
-- flag off (no row) means: refused.
CREATE TABLE host_guardrails (
    host                TEXT    PRIMARY KEY,
    privileged          INTEGER NOT NULL DEFAULT 0 CHECK (privileged IN (0, 1)),
    -- 'never', 'prefixes' (only under bind_prefixes) or 'any'.
    bind_mounts         TEXT    NOT NULL DEFAULT 'never' CHECK (bind_mounts IN ('never', 'prefixes', 'any')),
    -- JSON array of absolute paths.
    bind_prefixes       TEXT    NOT NULL DEFAULT '[]',
    host_network        INTEGER NOT NULL DEFAULT 0 CHECK (host_network IN (0, 1)),
    host_pid            INTEGER NOT NULL DEFAULT 0 CHECK (host_pid IN (0, 1)),
    host_ipc            INTEGER NOT NULL DEFAULT 0 CHECK (host_ipc IN (0, 1)),
    cap_add             INTEGER NOT NULL DEFAULT 0 CHECK (cap_add IN (0, 1)),
    devices             INTEGER NOT NULL DEFAULT 0 CHECK (devices IN (0, 1)),
    updated_at          INTEGER NOT NULL
);

INSERT INTO meta (key, value) VALUES ('audit_retention_days', '90') ON CONFLICT (key) DO NOTHING;
