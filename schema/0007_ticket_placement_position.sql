-- Where in the log a ticket entered its current queue: a vendor's feed shows a ticket's
-- events from there on, never what happened before the ticket was the vendor's.
ALTER TABLE rm_tickets ADD COLUMN placed_position bigint;
