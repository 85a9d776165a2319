-- Every update, delete or truncate of the tokens (a revocation, above all) is announced on
-- `baton_tokens`, so each batond drops the principals it remembers at once, whoever made the
-- change: the API, `batond tokens revoke`, or a statement typed in psql. (A new token needs no
-- announcement: unknown tokens are never remembered.)
CREATE FUNCTION api_tokens_announce_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('baton_tokens', TG_OP);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_changed AFTER UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_announce_change();
