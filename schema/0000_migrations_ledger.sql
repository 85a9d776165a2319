-- The ledger of applied migrations. batond migrate records each file here, with the
-- SHA-256 of its text, in the same transaction that applies it.
CREATE TABLE schema_migrations (
    name        text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
