-- Replicas on one database count a client's failed sign-ins together (auth::Accounts::login)
-- by its network, as each process's limiter does: an IPv4 address, or an IPv6 address's /64
-- (one subscriber's). Failures recorded before this have none and are not counted.
ALTER TABLE login_failures ADD COLUMN network TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_network ON login_failures (network, at);
