-- Fresh statistics for the log's own tables while the log is young. A prepared statement's
-- generic plan is made once and kept until the table's statistics change; one made while
-- `events` held a few rows reads the whole table on every later run (a sequential scan where
-- the primary key would find the next batch at once), and autovacuum first analyzes the
-- table only after a minute or more. Like baton_analyze_read_model, for the application
-- role, which does not own these tables.
CREATE FUNCTION baton_analyze_log() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    ANALYZE public.events;
    ANALYZE public.event_streams;
    ANALYZE public.event_commands;
END
$$;
REVOKE ALL ON FUNCTION baton_analyze_log() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION baton_analyze_log() TO baton_app;
