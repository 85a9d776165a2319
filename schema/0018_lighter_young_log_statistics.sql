-- The statistics refreshed while the log is young cost a third of what they did, and are
-- refreshed only where they are stale.
--
-- batond calls baton_analyze_log and baton_analyze_read_model each time the log has doubled.
-- At 70,000 events the ANALYZEs of events and the two read models took some 390 ms of a
-- core, in the middle of requests (130 ms now). What these statistics are for is plans that
-- use the indexes at all, not fine selectivity:
--   * a sample of 9,000 rows (default_statistics_target 30, against 100), which is what
--     makes ANALYZE cost what it does;
--   * only a table never analyzed, or one in which more changed since its last analysis,
--     by anyone, than half the rows it had then (the log has doubled when batond calls;
--     once autovacuum keeps up, it analyzes after 10% has changed, and these calls were
--     repeating its work).
-- Autovacuum's own analyses, at the full target, replace these.

CREATE FUNCTION baton_statistics_stale(p_table regclass) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    -- reltuples alone does not tell: VACUUM and CREATE INDEX set it too.
    SELECT greatest(s.last_analyze, s.last_autoanalyze) IS NULL OR c.reltuples < 0
        OR s.n_mod_since_analyze > c.reltuples / 2
    FROM pg_class c LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
    WHERE c.oid = p_table
$$;
REVOKE ALL ON FUNCTION baton_statistics_stale(regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION baton_analyze_log() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET default_statistics_target = 30 AS $$
BEGIN
    IF baton_statistics_stale('public.events') THEN
        ANALYZE public.events;
    END IF;
    IF baton_statistics_stale('public.event_streams') THEN
        ANALYZE public.event_streams;
    END IF;
    IF baton_statistics_stale('public.event_commands') THEN
        ANALYZE public.event_commands;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION baton_analyze_read_model(p_table text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET default_statistics_target = 30 AS $$
BEGIN
    IF p_table !~ '^rm_[a-z_]+$' OR to_regclass('public.' || p_table) IS NULL THEN
        RAISE EXCEPTION 'baton_analyze_read_model: % is not a read model', p_table USING ERRCODE = '42501';
    END IF;
    IF baton_statistics_stale(to_regclass('public.' || p_table)) THEN
        EXECUTE format('ANALYZE public.%I', p_table);
    END IF;
END
$$;
