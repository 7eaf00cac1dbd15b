-- The host registry: engines admins add in the UI or at /api/v1/hosts (hosts given with
-- --engine on the command line are not stored). A TLS private key is stored sealed with the
-- data directory's host-secrets.key (nonce || ciphertext || tag), never in the clear; the CA and
-- client certificate are public and kept as PEM.
CREATE TABLE hosts (
    slug            TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    labels          TEXT    NOT NULL DEFAULT '{}',
    tls_ca          TEXT,
    tls_cert        TEXT,
    tls_key_sealed  BLOB,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK ((tls_ca IS NULL) = (tls_cert IS NULL) AND (tls_cert IS NULL) = (tls_key_sealed IS NULL))
);
