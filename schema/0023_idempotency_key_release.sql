-- An Idempotency-Key whose request recorded nothing (refused, or failed before its append)
-- can be freed, so that the client may send a corrected request under it. Only through this
-- function: the application role still may not delete keys itself.
--
-- The key stays bound when its command recorded anything. An append of the same command
-- still in flight is waited for, not raced: the placeholder inserted into event_commands
-- takes the command id's unique entry, so the INSERT waits for an uncommitted append of
-- that command, and an append that comes after waits for this transaction, which leaves no
-- placeholder behind.
CREATE FUNCTION idempotency_key_release(p_command_id uuid, p_request_hash bytea) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO event_commands (command_id, stream) VALUES (p_command_id, '')
    ON CONFLICT (command_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    DELETE FROM event_commands WHERE command_id = p_command_id;
    DELETE FROM idempotency_keys WHERE command_id = p_command_id AND request_hash = p_request_hash;
    RETURN FOUND;
END
$$;

REVOKE ALL ON FUNCTION idempotency_key_release(uuid, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION idempotency_key_release(uuid, bytea) TO baton_app;
