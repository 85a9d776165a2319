-- Compliance per agreement × vendor × queue × month × priority × category × clock kind,
-- kept by the tickets projection as clocks end, so a report over a year reads a few
-- thousand rows instead of every clock. Rows add and subtract exactly: counts, sums (in whole microseconds), and
-- per measure a histogram of durations in buckets 2% wide (sparse pairs: bucket, count),
-- from which percentiles are read to within 1%.
--
-- month is the UTC month (YYYY-MM) in which the clock ended met or breached; agreement_id
-- is 'customer' for the customer SLA clock.
CREATE TABLE rm_compliance (
    agreement_id          text NOT NULL,
    vendor_id             text,
    queue                 text,
    kind                  text NOT NULL,
    month                 text NOT NULL,
    priority              text NOT NULL,
    category              text NOT NULL,
    ended                 integer NOT NULL,
    met                   integer NOT NULL,
    breached              integer NOT NULL,
    -- sums, in microseconds, of start to stop less paused time, and of the same in the
    -- clock's business time
    calendar_microseconds bigint NOT NULL,
    business_microseconds bigint NOT NULL,
    calendar_histogram    integer[] NOT NULL,
    business_histogram    integer[] NOT NULL,
    CONSTRAINT rm_compliance_key UNIQUE NULLS NOT DISTINCT (agreement_id, vendor_id, queue, kind, month, priority, category)
);
CREATE INDEX rm_compliance_month ON rm_compliance (month);

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_compliance TO baton_app;
GRANT SELECT ON rm_compliance TO baton_auditor;

-- The new table is filled by projecting the log again from the start: the tickets
-- projection starts over on the next batond start (its tables are derived, never a
-- source of truth). Stop every batond before applying this migration: an older replica
-- still running would project the log again without keeping rm_compliance.
TRUNCATE rm_tickets, rm_sla_clocks;
DELETE FROM event_checkpoints WHERE name = 'tickets';
