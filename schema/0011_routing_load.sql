-- What routing counts, kept by the tickets projection as tickets move, so that routing
-- reads a few rows instead of counting every open ticket:
--   rm_queue_load: open tickets per agreement (NULL: the default queue's) and queue;
--   rm_agreement_intake: tickets per agreement by the UTC month (YYYY-MM) they entered
--   its queue, for monthly caps.
CREATE TABLE rm_queue_load (
    agreement_id   text,
    queue          text NOT NULL,
    open_tickets   integer NOT NULL,
    CONSTRAINT rm_queue_load_key UNIQUE NULLS NOT DISTINCT (agreement_id, queue)
);
CREATE TABLE rm_agreement_intake (
    agreement_id   text NOT NULL,
    month          text NOT NULL,
    tickets        integer NOT NULL,
    PRIMARY KEY (agreement_id, month)
);
INSERT INTO rm_queue_load (agreement_id, queue, open_tickets)
    SELECT agreement_id, queue, count(*) FROM rm_tickets
    WHERE status IN ('unassigned', 'queued', 'accepted', 'in-progress', 'on-hold') AND queue IS NOT NULL
    GROUP BY agreement_id, queue;
INSERT INTO rm_agreement_intake (agreement_id, month, tickets)
    SELECT agreement_id, to_char(queued_at AT TIME ZONE 'UTC', 'YYYY-MM'), count(*) FROM rm_tickets
    WHERE agreement_id IS NOT NULL AND queued_at IS NOT NULL
    GROUP BY 1, 2;

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_queue_load, rm_agreement_intake TO baton_app;
GRANT SELECT ON rm_queue_load, rm_agreement_intake TO baton_auditor;
