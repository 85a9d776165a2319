-- The event store: one append-only log of events, grouped into streams.
--
-- Guarantees (see README.md in this folder):
-- * Optimistic concurrency per stream: event_streams.version is checked and bumped before
--   any global position is taken, so a writer that loses a race burns no position.
-- * Global order readers can trust: positions and hashes are assigned under the row lock of
--   event_log_head, taken last and held to commit, so commits happen in position order and
--   positions have no gaps.
-- * Immutability: triggers reject UPDATE, DELETE and TRUNCATE on events; the application
--   role gets INSERT and SELECT only.
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

-- Appends events to one stream. p_expected_kind: 'any', 'no_stream' or 'exact' (then
-- p_expected is the stream's current version, its number of events). Returns one row per
-- event; for a command id seen before, the first append's rows with duplicate = true.
-- A version mismatch raises SQLSTATE BAT02 with the stream's actual version (or 'none') in
-- DETAIL.
CREATE FUNCTION event_store_append(
    p_stream           text,
    p_expected_kind    text,
    p_expected         bigint,
    p_command_id       uuid,
    p_event_ids        uuid[],
    p_types            text[],
    p_schema_versions  integer[],
    p_data             json[],
    p_occurred_at      timestamptz[],
    p_actors           text[],
    p_correlation_ids  uuid[],
    p_causation_ids    uuid[],
    p_content_hashes   bytea[]
) RETURNS TABLE (out_position bigint, out_stream_version bigint, out_duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
    n           integer := coalesce(cardinality(p_event_ids), 0);
    v_base      bigint;
    v_actual    bigint;
    v_position  bigint;
    v_hash      bytea;
    v_recorded  timestamptz;
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'an append needs at least one event' USING ERRCODE = '22023';
    END IF;

    IF p_command_id IS NOT NULL THEN
        -- Waits for a concurrent append of the same command, then sees it.
        INSERT INTO event_commands (command_id, stream) VALUES (p_command_id, p_stream)
        ON CONFLICT (command_id) DO NOTHING;
        IF NOT FOUND THEN
            RETURN QUERY
                SELECT e.position, e.stream_version, true FROM events e
                WHERE e.command_id = p_command_id ORDER BY e.position;
            RETURN;
        END IF;
    END IF;

    -- 1. The stream's version: checked and bumped first, so losers take no position.
    IF p_expected_kind = 'any' THEN
        INSERT INTO event_streams AS s (stream, version) VALUES (p_stream, n)
        ON CONFLICT (stream) DO UPDATE SET version = s.version + n
        RETURNING s.version - n INTO v_base;
    ELSIF p_expected_kind = 'no_stream' OR (p_expected_kind = 'exact' AND p_expected = 0) THEN
        INSERT INTO event_streams (stream, version) VALUES (p_stream, n)
        ON CONFLICT (stream) DO NOTHING;
        IF NOT FOUND THEN
            SELECT version INTO v_actual FROM event_streams WHERE stream = p_stream;
            RAISE EXCEPTION 'stream % already exists at version %', p_stream, v_actual
                USING ERRCODE = 'BAT02', DETAIL = coalesce(v_actual::text, 'none');
        END IF;
        v_base := 0;
    ELSIF p_expected_kind = 'exact' THEN
        UPDATE event_streams SET version = version + n
        WHERE stream = p_stream AND version = p_expected;
        IF NOT FOUND THEN
            SELECT version INTO v_actual FROM event_streams WHERE stream = p_stream;
            RAISE EXCEPTION 'stream % is at version %, expected %', p_stream, coalesce(v_actual::text, 'none'), p_expected
                USING ERRCODE = 'BAT02', DETAIL = coalesce(v_actual::text, 'none');
        END IF;
        v_base := p_expected;
    ELSE
        RAISE EXCEPTION 'unknown expected-version kind %', p_expected_kind USING ERRCODE = '22023';
    END IF;

    -- 2. Positions and hashes, under the head's row lock: taken last, held to commit.
    SELECT h.position, h.hash INTO v_position, v_hash FROM event_log_head h WHERE h.singleton FOR UPDATE;
    FOR i IN 1..n LOOP
        v_position := v_position + 1;
        v_recorded := date_trunc('microseconds', clock_timestamp());
        v_hash := sha256(
            v_hash || p_content_hashes[i] || int8send(v_position) || int8send(v_base + i)
            || int8send((extract(epoch FROM v_recorded) * 1000000)::bigint));
        INSERT INTO events (
            position, event_id, stream, stream_version, type, schema_version, data,
            occurred_at, recorded_at, actor, correlation_id, causation_id, command_id,
            content_hash, hash)
        VALUES (
            v_position, p_event_ids[i], p_stream, v_base + i, p_types[i], p_schema_versions[i], p_data[i],
            p_occurred_at[i], v_recorded, p_actors[i], p_correlation_ids[i], p_causation_ids[i], p_command_id,
            p_content_hashes[i], v_hash);
        out_position := v_position;
        out_stream_version := v_base + i;
        out_duplicate := false;
        RETURN NEXT;
    END LOOP;
    UPDATE event_log_head SET position = v_position, hash = v_hash WHERE singleton;
    -- Delivered at commit; subscribers wake and read from their own position.
    PERFORM pg_notify('baton_events', v_position::text);
END
$$;

-- The role batond's application connections should use: it can append (through the
-- function) and read, never change or delete an event. Roles are cluster-wide, so creating
-- it tolerates another database having done so first.
DO $$
BEGIN
    CREATE ROLE baton_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
REVOKE ALL ON events, event_streams, event_log_head, event_commands, event_checkpoints FROM PUBLIC;
GRANT SELECT, INSERT ON events, event_commands TO baton_app;
GRANT SELECT, INSERT, UPDATE ON event_streams, event_log_head, event_checkpoints TO baton_app;
GRANT SELECT ON schema_migrations TO baton_app;
GRANT EXECUTE ON FUNCTION event_store_append(text, text, bigint, uuid, uuid[], text[], integer[], json[], timestamptz[], text[], uuid[], uuid[], bytea[]) TO baton_app;
