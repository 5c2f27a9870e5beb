-- +goose Up
-- A trigram index of the members' search text (pg_trgm's GIN operator class), so
-- that a member search finds its matches without reading the organization's other
-- members. The index is kept by PostgreSQL in the membership write's transaction.
--
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the owner of
-- the database may create it. Where it cannot be created the search still works,
-- by reading memberships_search as before; the server logs no error for it.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): member search reads memberships_search', SQLERRM;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX memberships_trigrams ON memberships USING gin (search gin_trgm_ops)';
    END IF;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS memberships_trigrams;
