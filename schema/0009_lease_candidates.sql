-- What a lease request takes from the front of: a queue's tickets not leased, in work
-- order. Leased tickets stay 'queued' until accepted, and sit at the front of the work
-- order (they are the most urgent); without this index every lease request stepped over
-- all of them.
CREATE INDEX rm_tickets_lease_order ON rm_tickets (queue, next_due_at NULLS LAST, priority, opened_at)
    WHERE status = 'queued' AND lease_holder IS NULL;
-- Leases that ran out before the SLA watcher recorded it.
CREATE INDEX rm_tickets_lease_expiry ON rm_tickets (queue, lease_expires_at)
    WHERE status = 'queued' AND lease_holder IS NOT NULL;
