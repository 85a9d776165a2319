-- Bearer tokens for the HTTP API, one per integration or person. Only a SHA-256 of each
-- token is kept (tokens are 256-bit random secrets, so a fast hash suffices); the token
-- itself is shown once, when created.
CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    role        text NOT NULL CHECK (role IN ('admin', 'agent', 'vendor', 'auditor', 'ingest')),
    -- Whom the token speaks for: the login of an agent or admin, the vendor id of a vendor,
    -- the source of an ingest token; auditors read everything and have none.
    subject     text CHECK ((role = 'auditor') = (subject IS NULL)),
    token_hash  bytea NOT NULL UNIQUE,
    -- The token's first characters, so people can tell tokens apart in lists.
    hint        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    revoked_at  timestamptz,
    revoked_by  text
);

GRANT SELECT, INSERT, UPDATE ON api_tokens TO baton_app;
