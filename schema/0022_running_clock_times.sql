-- A clock's paused_seconds and elapsed_seconds are kept once it has stopped, and are NULL
-- while it runs or is paused. They were the times as of the ticket's last event, so every
-- event rewrote every running clock of its ticket (four rows for a lease, a comment or an
-- acceptance) for figures no query reads: compliance counts stopped clocks only, and how
-- far a running clock has got is its due_at against now(). Now an event rewrites only the
-- clocks it changes.
ALTER TABLE rm_sla_clocks
    ALTER COLUMN paused_seconds DROP NOT NULL,
    ALTER COLUMN elapsed_seconds DROP NOT NULL;
UPDATE rm_sla_clocks SET paused_seconds = NULL, elapsed_seconds = NULL
WHERE stopped_at IS NULL AND (paused_seconds IS NOT NULL OR elapsed_seconds IS NOT NULL);
ALTER TABLE rm_sla_clocks
    ADD CONSTRAINT rm_sla_clocks_times_once_stopped
    CHECK ((stopped_at IS NULL) = (paused_seconds IS NULL AND elapsed_seconds IS NULL));
