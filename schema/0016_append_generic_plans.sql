-- event_store_append's statements run on generic plans. Left to choose, PostgreSQL planned
-- some of them afresh on every call (the stream ordering, the batch INSERT now and then):
-- a plan made for the call's own parameters looks cheaper than the generic one whenever a
-- batch is smaller than the planner's default guess for an array, though every plan comes
-- out the same. The setting holds for the function's call only, the ticket index trigger
-- it fires included.
ALTER FUNCTION event_store_append(
    text[], text[], bigint[], uuid[], integer[], uuid[], text[], integer[], json[],
    timestamptz[], text[], uuid[], uuid[], bytea[])
    SET plan_cache_mode = force_generic_plan;
