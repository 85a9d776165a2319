-- What each Idempotency-Key was first sent with, so the same key with a different request
-- is refused (422) instead of silently answered with the first request's result.
CREATE TABLE idempotency_keys (
    command_id    uuid PRIMARY KEY,
    request_hash  bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON idempotency_keys TO baton_app;
