-- Registry credentials admins store for pulls from private registries. The password is sealed
-- with the data directory's host-secrets.key (nonce || ciphertext || tag, the server as
-- associated data) and never returned by the API.
CREATE TABLE registry_credentials (
    id              INTEGER PRIMARY KEY,
    server          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    username        TEXT    NOT NULL,
    password_sealed BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
);
