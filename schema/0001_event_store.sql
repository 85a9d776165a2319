-- The event store: one append-only log of events, grouped into streams.
--
-- Guarantees (see README.md in this folder):
-- * Optimistic concurrency per stream: event_streams.version is checked and bumped before
--   any global position is taken, so a writer that loses a race burns no position.
-- * Global order readers can trust: positions and hashes are assigned under the row lock of
--   event_log_head, taken last and held to commit, so commits happen in position order and
--   positions have no gaps.
-- * Immutability: triggers reject UPDATE, DELETE and TRUNCATE on events; the application
--   role reads, and appends only through event_store_append (SECURITY DEFINER).
-- * Tamper evidence: each event's hash = SHA-256(previous hash || content hash || position
--   || stream version || recorded-at), where the content hash covers everything the writer
--   supplied. `batond verify` recomputes the chain.

CREATE TABLE event_streams (
    stream   text PRIMARY KEY,
    version  bigint NOT NULL CHECK (version >= 0)
);

CREATE TABLE event_log_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position   bigint NOT NULL,
    hash       bytea NOT NULL
);
INSERT INTO event_log_head (singleton, position, hash)
VALUES (true, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE events (
    position        bigint PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    stream          text NOT NULL,
    stream_version  bigint NOT NULL,
    type            text NOT NULL,
    schema_version  integer NOT NULL,
    data            json NOT NULL,          -- json, not jsonb: kept byte for byte, as hashed
    occurred_at     timestamptz NOT NULL,   -- domain time (an import may set it in the past)
    recorded_at     timestamptz NOT NULL,   -- when the store took the event
    actor           text NOT NULL,
    correlation_id  uuid,
    causation_id    uuid,
    command_id      uuid,
    content_hash    bytea NOT NULL,
    hash            bytea NOT NULL,
    UNIQUE (stream, stream_version)
);
CREATE INDEX events_command_id ON events (command_id) WHERE command_id IS NOT NULL;

-- Commands already applied, for idempotent retries.
CREATE TABLE event_commands (
    command_id   uuid PRIMARY KEY,
    stream       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- Named reader positions (projections, the SLA watcher), updated by compare-and-swap.
CREATE TABLE event_checkpoints (
    name        text PRIMARY KEY,
    position    bigint NOT NULL CHECK (position >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION events_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'BAT01', HINT = 'append a correcting event instead';
END
$$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();

-- Appends a batch of appends, each to one stream, in one transaction (batond groups the
-- appends that arrive together, so they share one commit). Per append i: p_streams[i],
-- p_kinds[i] ('any', 'no_stream' or 'exact'), p_expected[i] (the stream's current version,
-- its number of events, for 'exact'), p_command_ids[i], and p_counts[i] events; the event
-- arrays hold every append's events, one after another.
--
-- Returns rows (append_index, position, stream_version, duplicate, conflict, actual):
-- * appended: one row per event;
-- * a command id seen before: the first append's rows, duplicate = true, nothing added;
-- * a version mismatch: one row with conflict = true and the stream's actual version (NULL
--   when it does not exist); nothing of that append is kept, and no position is taken.
--
-- Phase 1 checks and bumps every stream version (in stream-name order, so two batches never
-- deadlock on each other); phase 2 then takes the log head's row lock — last, held to commit
-- — and assigns positions and chained hashes.
CREATE FUNCTION event_store_append(
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
            INSERT INTO events (
                position, event_id, stream, stream_version, type, schema_version, data,
                occurred_at, recorded_at, actor, correlation_id, causation_id, command_id,
                content_hash, hash)
            VALUES (
                v_position, p_event_ids[e], p_streams[i], v_bases[i] + k, p_types[e], p_schema_versions[e], p_data[e],
                p_occurred_at[e], v_recorded, p_actors[e], p_correlation_ids[e], p_causation_ids[e], p_command_ids[i],
                p_content_hashes[e], v_hash);
            append_index := i; out_position := v_position; stream_version := v_bases[i] + k;
            duplicate := false; conflict := false; actual := NULL;
            RETURN NEXT;
        END LOOP;
    END LOOP;
    UPDATE event_log_head SET position = v_position, hash = v_hash WHERE singleton;
    -- Delivered at commit; subscribers wake and read from their own position.
    PERFORM pg_notify('baton_events', v_position::text);
END
$$;

-- The role batond's application connections should use: it reads the log and appends
-- through event_store_append (which runs with the owner's rights), and cannot insert, change
-- or delete an event, a stream version, the head or an idempotency record itself. Roles are
-- cluster-wide, so creating it tolerates another database having done so first.
DO $$
BEGIN
    CREATE ROLE baton_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
REVOKE ALL ON events, event_streams, event_log_head, event_commands, event_checkpoints FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION event_store_append(text[], text[], bigint[], uuid[], integer[], uuid[], text[], integer[], json[], timestamptz[], text[], uuid[], uuid[], bytea[]) FROM PUBLIC;
GRANT SELECT ON events, event_streams, event_log_head, event_commands TO baton_app;
GRANT SELECT, INSERT, UPDATE ON event_checkpoints TO baton_app;
GRANT SELECT ON schema_migrations TO baton_app;
GRANT EXECUTE ON FUNCTION event_store_append(text[], text[], bigint[], uuid[], integer[], uuid[], text[], integer[], json[], timestamptz[], text[], uuid[], uuid[], bytea[]) TO baton_app;
