-- Appends write a batch's events with one INSERT instead of one per event. Phase 1 (command
-- ids, stream versions) is unchanged; phase 2 still chains the hashes event by event under
-- the head's lock, into arrays, then inserts them all at once. Same signature, same
-- guarantees, same rows returned (appended rows in position order).
CREATE OR REPLACE FUNCTION event_store_append(
    p_streams          text[],
    p_kinds            text[],
    p_expected         bigint[],
    p_command_ids      uuid[],
    p_counts           integer[],
    p_event_ids        uuid[],
    p_types            text[],
    p_schema_versions  integer[],
    p_data             json[],
    p_occurred_at      timestamptz[],
    p_actors           text[],
    p_correlation_ids  uuid[],
    p_causation_ids    uuid[],
    p_content_hashes   bytea[]
) RETURNS TABLE (
    append_index    integer,
    out_position    bigint,
    stream_version  bigint,
    duplicate       boolean,
    conflict        boolean,
    actual          bigint
)
-- Runs with its owner's rights: the application role may append only through here, never
-- write the log's tables directly (see the grants below).
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    n_appends   integer := coalesce(cardinality(p_streams), 0);
    v_order     integer[];
    v_offsets   integer[];
    v_bases     bigint[];
    v_ok        boolean[];
    v_any_ok    boolean := false;
    v_total     integer := 0;
    i           integer;
    n           integer;
    v_base      bigint;
    v_actual    bigint;
    v_position  bigint;
    v_hash      bytea;
    v_recorded  timestamptz;
    e           integer;
    a_position  bigint[];
    a_version   bigint[];
    a_append    integer[];
    a_recorded  timestamptz[];
    a_hash      bytea[];
BEGIN
    IF n_appends = 0 THEN
        RETURN;
    END IF;
    v_offsets := array_fill(0, ARRAY[n_appends]);
    v_bases := array_fill(0::bigint, ARRAY[n_appends]);
    v_ok := array_fill(false, ARRAY[n_appends]);
    FOR i IN 1..n_appends LOOP
        IF p_counts[i] IS NULL OR p_counts[i] < 1 THEN
            RAISE EXCEPTION 'append % has no events', i USING ERRCODE = '22023';
        END IF;
        v_offsets[i] := v_total;
        v_total := v_total + p_counts[i];
    END LOOP;
    IF v_total <> coalesce(cardinality(p_event_ids), 0) THEN
        RAISE EXCEPTION 'the batch names % events but carries %', v_total, coalesce(cardinality(p_event_ids), 0)
            USING ERRCODE = '22023';
    END IF;
    SELECT array_agg(x ORDER BY p_streams[x], x) INTO v_order FROM generate_series(1, n_appends) AS x;

    -- Phase 1: idempotency and stream versions. No global position is taken here.
    FOREACH i IN ARRAY v_order LOOP
        n := p_counts[i];
        IF p_command_ids[i] IS NOT NULL THEN
            -- Waits for a concurrent append of the same command, then sees it.
            INSERT INTO event_commands (command_id, stream) VALUES (p_command_ids[i], p_streams[i])
            ON CONFLICT (command_id) DO NOTHING;
            IF NOT FOUND THEN
                RETURN QUERY
                    SELECT i, ev.position, ev.stream_version, true, false, NULL::bigint FROM events ev
                    WHERE ev.command_id = p_command_ids[i] ORDER BY ev.position;
                CONTINUE;
            END IF;
        END IF;

        v_base := NULL;
        IF p_kinds[i] = 'any' THEN
            INSERT INTO event_streams AS s (stream, version) VALUES (p_streams[i], n)
            ON CONFLICT (stream) DO UPDATE SET version = s.version + n
            RETURNING s.version - n INTO v_base;
        ELSIF p_kinds[i] = 'no_stream' OR (p_kinds[i] = 'exact' AND p_expected[i] = 0) THEN
            INSERT INTO event_streams (stream, version) VALUES (p_streams[i], n)
            ON CONFLICT (stream) DO NOTHING;
            IF FOUND THEN v_base := 0; END IF;
        ELSIF p_kinds[i] = 'exact' THEN
            UPDATE event_streams SET version = version + n
            WHERE stream = p_streams[i] AND version = p_expected[i];
            IF FOUND THEN v_base := p_expected[i]; END IF;
        ELSE
            RAISE EXCEPTION 'unknown expected-version kind %', p_kinds[i] USING ERRCODE = '22023';
        END IF;

        IF v_base IS NULL THEN
            IF p_command_ids[i] IS NOT NULL THEN
                DELETE FROM event_commands WHERE command_id = p_command_ids[i];
            END IF;
            SELECT version INTO v_actual FROM event_streams WHERE stream = p_streams[i];
            append_index := i; out_position := NULL; stream_version := NULL;
            duplicate := false; conflict := true; actual := v_actual;
            RETURN NEXT;
            CONTINUE;
        END IF;
        v_bases[i] := v_base;
        v_ok[i] := true;
        v_any_ok := true;
    END LOOP;

    IF NOT v_any_ok THEN
        RETURN;
    END IF;

    -- Phase 2: positions and hashes, under the head's row lock: taken last, held to commit.
    -- Computed event by event (each hash chains on the one before), then written with one
    -- INSERT for the whole batch.
    a_position := array_fill(NULL::bigint, ARRAY[v_total]);
    a_version := array_fill(NULL::bigint, ARRAY[v_total]);
    a_append := array_fill(NULL::integer, ARRAY[v_total]);
    a_recorded := array_fill(NULL::timestamptz, ARRAY[v_total]);
    a_hash := array_fill(NULL::bytea, ARRAY[v_total]);
    SELECT h.position, h.hash INTO v_position, v_hash FROM event_log_head h WHERE h.singleton FOR UPDATE;
    FOREACH i IN ARRAY v_order LOOP
        CONTINUE WHEN NOT v_ok[i];
        FOR k IN 1..p_counts[i] LOOP
            e := v_offsets[i] + k;
            v_position := v_position + 1;
            v_recorded := clock_timestamp();
            v_hash := sha256(
                v_hash || p_content_hashes[e] || int8send(v_position) || int8send(v_bases[i] + k)
                || int8send((extract(epoch FROM v_recorded) * 1000000)::bigint));
            a_position[e] := v_position;
            a_version[e] := v_bases[i] + k;
            a_append[e] := i;
            a_recorded[e] := v_recorded;
            a_hash[e] := v_hash;
        END LOOP;
    END LOOP;
    INSERT INTO events (
        position, event_id, stream, stream_version, type, schema_version, data,
        occurred_at, recorded_at, actor, correlation_id, causation_id, command_id,
        content_hash, hash)
    SELECT ev.position, ev.event_id, p_streams[ev.append_no], ev.stream_version, ev.type, ev.schema_version, ev.data,
           ev.occurred_at, ev.recorded_at, ev.actor, ev.correlation_id, ev.causation_id, p_command_ids[ev.append_no],
           ev.content_hash, ev.hash
    FROM unnest(a_position, a_version, a_append, a_recorded, a_hash, p_event_ids, p_types, p_schema_versions, p_data,
                p_occurred_at, p_actors, p_correlation_ids, p_causation_ids, p_content_hashes)
         AS ev(position, stream_version, append_no, recorded_at, hash, event_id, type, schema_version, data,
               occurred_at, actor, correlation_id, causation_id, content_hash)
    WHERE ev.position IS NOT NULL;
    RETURN QUERY
        SELECT r.append_no, r.position, r.stream_version, false, false, NULL::bigint
        FROM unnest(a_append, a_position, a_version) AS r(append_no, position, stream_version)
        WHERE r.position IS NOT NULL
        ORDER BY r.position;
    UPDATE event_log_head SET position = v_position, hash = v_hash WHERE singleton;
    -- Delivered at commit; subscribers wake and read from their own position.
    PERFORM pg_notify('baton_events', v_position::text);
END
$$;
