-- Fresh statistics for a read model that grows faster than autovacuum looks at it (a young
-- log; a projection starting over). ANALYZE needs the table's owner, which the application
-- role is not: it asks through here, for the read models (rm_*) only.
CREATE FUNCTION baton_analyze_read_model(p_table text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF p_table !~ '^rm_[a-z_]+$' OR to_regclass('public.' || p_table) IS NULL THEN
        RAISE EXCEPTION 'baton_analyze_read_model: % is not a read model', p_table USING ERRCODE = '42501';
    END IF;
    EXECUTE format('ANALYZE public.%I', p_table);
END
$$;
REVOKE ALL ON FUNCTION baton_analyze_read_model(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION baton_analyze_read_model(text) TO baton_app;
