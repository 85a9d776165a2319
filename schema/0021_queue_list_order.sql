-- A queue's ticket list (GET /v1/tickets?queue=…) in the list's order: the queue, then the
-- key of rm_tickets_list_order (schema/0020). A page of one queue then reads from where the
-- cursor left off whatever the statistics say. Without it, when the statistics predated a
-- queue's tickets (a queue that grew fast since the last analysis) the planner took the
-- queue for rare, fetched all its open tickets and sorted them: 36 ms for 44,000.
CREATE INDEX rm_tickets_queue_list_order ON rm_tickets (
    queue, (COALESCE(next_due_at, '9999-12-31 23:59:59+00'::timestamptz)), priority, opened_at, number);
