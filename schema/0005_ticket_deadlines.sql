-- The SLA watcher's timers: per ticket, the earliest instant at which something must happen
-- by itself (an SLA warning or breach not yet recorded, a lease running out, a hold's until).
ALTER TABLE rm_tickets ADD COLUMN next_deadline_at timestamptz;
CREATE INDEX rm_tickets_next_deadline ON rm_tickets (next_deadline_at) WHERE next_deadline_at IS NOT NULL;
