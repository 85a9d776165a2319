-- Every change to the tokens (a revocation, above all) is announced on `baton_tokens`, so each
-- batond drops the principals it remembers for tokens at once, whoever made the change: the
-- API, `batond tokens revoke`, or a statement typed in psql.
CREATE FUNCTION api_tokens_announce_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('baton_tokens', TG_OP);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_changed AFTER UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_announce_change();
