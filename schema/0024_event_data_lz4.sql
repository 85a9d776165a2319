-- A routed event's data (its routing trace, about 1.9 KB of JSON) takes its row past the size
-- at which PostgreSQL compresses a row's values, so it is compressed on every append and
-- decompressed on every read. With lz4 instead of the default pglz, appending a routed
-- event costs about 7 µs less and reading one about 2 µs less, for a value some 10% larger
-- (still in the row). Events already stored keep their pglz compression; both read alike.
-- A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4; events keep pglz compression';
END
$$;
