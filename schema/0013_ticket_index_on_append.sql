-- The ticket index is written by the append that opens the ticket, in its transaction: a
-- ticket is in the index when its stream exists, and opening a ticket costs one statement and
-- one commit instead of two of each. (As before, a number or a source and external reference
-- already indexed for another ticket is not entered again; batond never makes one.)
--
-- The trigger reads what every version of TicketOpened carries: `number` (T-<digits>),
-- `ticketId`, and `details.source` and `details.externalReference`. A number in another form
-- is not indexed (the index holds numbers as bigints). It runs inside event_store_append,
-- with the rights of the log's owner.
CREATE FUNCTION ticket_index_on_open() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO ticket_index (number, ticket_id, source, external_reference, opened_at)
    SELECT substr(d->>'number', 3)::bigint, (d->>'ticketId')::uuid, d->'details'->>'source',
           d->'details'->>'externalReference', o.occurred_at
    -- OFFSET 0 keeps the subquery whole, so each payload is parsed once, not once per use.
    FROM (SELECT o.data::jsonb AS d, o.occurred_at FROM appended o WHERE o.type = 'TicketOpened' OFFSET 0) AS o
    WHERE d->>'number' ~ '^T-[0-9]{1,18}$'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- Once per statement, over the rows it inserted: an append writes its batch with one INSERT.
CREATE TRIGGER events_index_opened_tickets AFTER INSERT ON events
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION ticket_index_on_open();

-- Tickets opened before this migration whose indexing was cut short (the index was written
-- after the append, in its own transaction).
INSERT INTO ticket_index (number, ticket_id, source, external_reference, opened_at)
SELECT substr(data->>'number', 3)::bigint, (data->>'ticketId')::uuid, data->'details'->>'source',
       data->'details'->>'externalReference', occurred_at
FROM events
WHERE type = 'TicketOpened' AND data->>'number' ~ '^T-[0-9]{1,18}$'
ON CONFLICT DO NOTHING;
