-- The agreements and the service policy are read from the log by an index of their own
-- events, not by reading the whole log.
--
-- batond reads them every few seconds (the agreement set in force, for routing and leases)
-- and whenever the tickets projection needs them afresh. The streams are found by name
-- prefix, `stream LIKE 'agreement-%'`, which the (stream, stream_version) index cannot
-- serve under a collation other than C; so every read was a sequential scan of `events`:
-- 25 ms at 58,000 events, growing with the log, in the middle of requests.
--
-- A partial index over exactly these events stays as small as the agreements' history. A
-- query finds it only when its WHERE clause repeats the predicate below word for word, with
-- constants, not parameters (see AgreementLog.swift).
CREATE INDEX events_agreement_log ON events (position)
    WHERE stream = 'service-policy' OR stream LIKE 'agreement-%';
