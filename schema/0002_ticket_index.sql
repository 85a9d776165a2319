-- Ticket numbers and the write-side index of tickets.
--
-- Humans know tickets by short numbers (T-1042); streams are named by ticket id
-- (ticket-<uuid>). A number comes from ticket_numbers; ticket_index maps it to the ticket and
-- is written in the same transaction as the ticket's first events, so a ticket exists in the
-- index exactly when its stream does. The unique (source, external_reference) pair is what
-- makes a second ingest of the same external ticket a duplicate rather than a new ticket.
CREATE SEQUENCE ticket_numbers START WITH 1000;

CREATE TABLE ticket_index (
    number              bigint PRIMARY KEY,
    ticket_id           uuid NOT NULL UNIQUE,
    source              text NOT NULL,
    external_reference  text,
    opened_at           timestamptz NOT NULL,
    UNIQUE (source, external_reference)
);

GRANT USAGE ON SEQUENCE ticket_numbers TO baton_app;
GRANT SELECT, INSERT ON ticket_index TO baton_app;
