-- Replicas on one database count a client's failed sign-ins together (auth::Accounts::login):
-- the recent failures of one address, found by this index.
CREATE INDEX login_failures_client ON login_failures (client, at);
