-- +goose Up
-- Concurrent writers of one organization that never deadlock on the member counts.
--
-- 00009 split an organization's count over eight rows chosen by the account id's
-- last character: a transaction adding 50 members updated several of them, each
-- locked until it committed, in the order of its rows, so two such transactions
-- locked the same rows in different orders and deadlocked. Here a transaction
-- never waits for another on these rows, so it cannot deadlock on them:
--
--   * Each transaction adds its changes to a row of its own, keyed by its
--     transaction id (unique for the cluster's life, never 0), upserted once per
--     statement and organization by statement-level triggers. No other writer ever
--     touches that row.
--   * Row 0 of an organization is its base. Now and then (one statement in 16) a
--     writer folds the rows of committed transactions into the base, under an
--     advisory lock it only ever tries (pg_try_advisory_xact_lock): a writer that
--     does not get it skips the fold, it never waits. Rows of transactions still
--     running are invisible to the fold and left alone; the fold is one statement,
--     so a reader sees the sum before it or after it, the same.
--
-- The count is the sum of an organization's rows, as before (countMembers); one row
-- may be negative (a transaction that removed members), the sum is exact.
ALTER TABLE organization_member_counts DROP CONSTRAINT organization_member_counts_shard_check;
ALTER TABLE organization_member_counts ALTER COLUMN shard TYPE BIGINT;

-- The eight shards of each organization folded into its base.
UPDATE organization_member_counts c SET members = s.members
FROM (SELECT org_id, SUM(members) AS members FROM organization_member_counts GROUP BY org_id) s
WHERE c.org_id = s.org_id AND c.shard = 0;
DELETE FROM organization_member_counts WHERE shard <> 0;

DROP TRIGGER memberships_count_delete ON memberships;
DROP TRIGGER memberships_count_insert ON memberships;
DROP FUNCTION memberships_count();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION organization_member_counts_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO organization_member_counts (org_id, shard, members) VALUES (NEW.id, 0, 0);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION organization_member_counts_add(changes jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    me  BIGINT := txid_current();
    org TEXT;
BEGIN
    -- changes is {org_id: delta}; the rows are this transaction's, so the order does
    -- not matter, but it is fixed anyway. An organization being deleted (its
    -- memberships go with it by foreign key) has no count to keep.
    INSERT INTO organization_member_counts (org_id, shard, members)
    SELECT j.key, me, j.value::bigint FROM jsonb_each_text(changes) j
    WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = j.key) ORDER BY j.key
    ON CONFLICT (org_id, shard) DO UPDATE
        SET members = organization_member_counts.members + EXCLUDED.members;
    IF random() >= 0.0625 THEN
        RETURN;
    END IF;
    FOR org IN SELECT key FROM jsonb_each_text(changes) ORDER BY key LOOP
        IF pg_try_advisory_xact_lock(hashtext('organization_member_counts'), hashtext(org)) THEN
            WITH folded AS (
                DELETE FROM organization_member_counts
                WHERE org_id = org AND shard <> 0 AND shard <> me
                RETURNING members)
            UPDATE organization_member_counts
            SET members = members + (SELECT COALESCE(SUM(members), 0) FROM folded)
            WHERE org_id = org AND shard = 0;
        END IF;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION memberships_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM organization_member_counts_add(
        (SELECT jsonb_object_agg(org_id, n) FROM (SELECT org_id, COUNT(*) AS n FROM added GROUP BY org_id) d))
    WHERE EXISTS (SELECT 1 FROM added);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION memberships_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM organization_member_counts_add(
        (SELECT jsonb_object_agg(org_id, -n) FROM (SELECT org_id, COUNT(*) AS n FROM removed GROUP BY org_id) d))
    WHERE EXISTS (SELECT 1 FROM removed);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- The statement triggers fire for the statements of foreign key actions too (an
-- account or an organization deleted). A membership's keys are never updated.
-- +goose StatementBegin
CREATE TRIGGER memberships_count_insert AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_count_insert();
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memberships_count_delete AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_count_delete();
-- +goose StatementEnd

-- A subscription is renewed at most once (API.md): a second renewal of it is a
-- conflict, even from another process at the same moment. Should a store already
-- hold several renewals of one subscription (made before this rule), the first
-- keeps the link and the later ones stand on their own, as renewals always did once
-- made.
UPDATE subscriptions SET renewed_from = NULL
WHERE id IN (SELECT id FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY renewed_from ORDER BY created_at, id) AS nth
    FROM subscriptions WHERE renewed_from IS NOT NULL) r WHERE nth > 1);
CREATE UNIQUE INDEX subscriptions_renewed_from_key ON subscriptions (renewed_from);

-- +goose Down
DROP INDEX subscriptions_renewed_from_key;
DROP TRIGGER memberships_count_delete ON memberships;
DROP TRIGGER memberships_count_insert ON memberships;
DROP FUNCTION memberships_count_delete();
DROP FUNCTION memberships_count_insert();
DROP FUNCTION organization_member_counts_add(jsonb);
-- Back to eight shards: each organization's sum in shard 0, the others 0.
UPDATE organization_member_counts c SET members = s.members
FROM (SELECT org_id, SUM(members) AS members FROM organization_member_counts GROUP BY org_id) s
WHERE c.org_id = s.org_id AND c.shard = 0;
DELETE FROM organization_member_counts WHERE shard <> 0;
ALTER TABLE organization_member_counts ALTER COLUMN shard TYPE INTEGER;
ALTER TABLE organization_member_counts ADD CONSTRAINT organization_member_counts_shard_check CHECK (shard BETWEEN 0 AND 7);
INSERT INTO organization_member_counts (org_id, shard, members)
SELECT o.id, s, 0 FROM organizations o CROSS JOIN generate_series(1, 7) AS s;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION organization_member_counts_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO organization_member_counts (org_id, shard, members)
    SELECT NEW.id, s, 0 FROM generate_series(0, 7) AS s;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION memberships_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE organization_member_counts SET members = members + 1
        WHERE org_id = NEW.org_id AND shard = ascii(right(NEW.account_id, 1)) % 8;
        RETURN NEW;
    END IF;
    UPDATE organization_member_counts SET members = members - 1
    WHERE org_id = OLD.org_id AND shard = ascii(right(OLD.account_id, 1)) % 8;
    RETURN OLD;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER memberships_count_insert AFTER INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_count();
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER memberships_count_delete AFTER DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_count();
-- +goose StatementEnd
