-- Read models: tables derived from the event log by batond's projections, for queries only.
-- Each is rebuilt from the log at will; nothing here is a source of truth. A projection
-- updates its tables and its checkpoint (event_checkpoints) in one transaction.

-- The current state of every ticket, folded from its stream with BatonDomain's fold.
CREATE TABLE rm_tickets (
    ticket_id           uuid PRIMARY KEY,
    number              bigint NOT NULL UNIQUE,
    status              text NOT NULL,
    priority            text NOT NULL,
    category            text NOT NULL,
    site                text,
    department          text,
    subject             text NOT NULL,
    requester           text NOT NULL,
    source              text NOT NULL,
    external_reference  text,
    queue               text,
    agreement_id        text,
    agreement_version   integer,
    vendor_id           text,
    assignee            text,
    queued_at           timestamptz,
    lease_holder        text,
    lease_expires_at    timestamptz,
    hold_reason         text,
    hold_until          timestamptz,
    opened_at           timestamptz NOT NULL,
    first_responded_at  timestamptz,
    resolved_at         timestamptz,
    -- The earliest due instant of the clocks still running (customer SLA or the current
    -- assignment's OLA/UC): the work order of a queue.
    next_due_at         timestamptz,
    -- The first warning instant of that clock, for "amber".
    next_warning_at     timestamptz,
    -- A clock of this ticket ended breached, or a breach was recorded.
    breached            boolean NOT NULL DEFAULT false,
    escalation_level    integer NOT NULL DEFAULT 0,
    version             integer NOT NULL,
    updated_at          timestamptz NOT NULL,
    last_position       bigint NOT NULL
);

-- A queue's open tickets in work order: due instant, then priority (P1 < P5), then age.
-- The lease query and `baton queue` read this index.
CREATE INDEX rm_tickets_work_order ON rm_tickets (queue, next_due_at NULLS LAST, priority, opened_at)
    WHERE status IN ('unassigned', 'queued', 'accepted', 'in-progress', 'on-hold');
CREATE INDEX rm_tickets_status ON rm_tickets (status, number);
CREATE INDEX rm_tickets_vendor ON rm_tickets (vendor_id, number) WHERE vendor_id IS NOT NULL;

-- Every SLA clock of every ticket, computed with BatonDomain's clock code.
CREATE TABLE rm_sla_clocks (
    ticket_id           uuid NOT NULL,
    clock_id            text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('first-response', 'resolution')),
    -- 'customer', or the assignment's agreement
    level               text NOT NULL,
    agreement_id        text,
    agreement_version   integer,
    vendor_id           text,
    queue               text,
    priority            text NOT NULL,
    category            text NOT NULL,
    business_hours      boolean NOT NULL,
    started_at          timestamptz NOT NULL,
    due_at              timestamptz,
    stopped_at          timestamptz,
    stop_reason         text,
    -- running, paused, met, breached, handedOver, cancelled, as of the ticket's last event
    status              text NOT NULL,
    paused_seconds      double precision NOT NULL,
    elapsed_seconds     double precision NOT NULL,
    target_seconds      double precision NOT NULL,
    PRIMARY KEY (ticket_id, clock_id)
);
CREATE INDEX rm_sla_clocks_stopped ON rm_sla_clocks (stopped_at) WHERE stopped_at IS NOT NULL;
CREATE INDEX rm_sla_clocks_open_due ON rm_sla_clocks (due_at) WHERE stopped_at IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON rm_tickets, rm_sla_clocks TO baton_app;

-- Auditors' own SQL tools connect with a role that reads the read models and nothing else
-- (not the log's raw payloads, not the tokens).
DO $$
BEGIN
    CREATE ROLE baton_auditor NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
GRANT SELECT ON rm_tickets, rm_sla_clocks TO baton_auditor;
