-- +goose Up
-- How many members each organization has, kept by triggers as seats are counted in
-- subscriptions.assigned, so that a list's total without a filter (SCIM's
-- totalResults on every page, the member list's) reads eight rows instead of
-- counting 100,000. The count is split over eight shards chosen by the account id's
-- last character, so that concurrent writers in one organization seldom wait for
-- the same row. An organization's shards are made with it.
CREATE TABLE organization_member_counts (
    org_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    shard   INTEGER NOT NULL CHECK (shard BETWEEN 0 AND 7),
    members BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, shard)
);

-- The members already there, counted in one pass.
INSERT INTO organization_member_counts (org_id, shard, members)
SELECT o.id, s.shard, COALESCE(c.members, 0)
FROM organizations o
CROSS JOIN generate_series(0, 7) AS s (shard)
LEFT JOIN (SELECT org_id, ascii(right(account_id, 1)) % 8 AS shard, COUNT(*) AS members
    FROM memberships GROUP BY org_id, ascii(right(account_id, 1)) % 8) c
    ON c.org_id = o.id AND c.shard = s.shard;

-- +goose StatementBegin
CREATE FUNCTION organization_member_counts_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO organization_member_counts (org_id, shard, members)
    SELECT NEW.id, s, 0 FROM generate_series(0, 7) AS s;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER organization_member_counts_create AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION organization_member_counts_create();
-- +goose StatementEnd

-- The membership triggers fire for the rows that foreign key actions delete too (an
-- account or an organization removed). A membership's keys are never updated.
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

-- +goose Down
DROP TRIGGER memberships_count_delete ON memberships;
DROP TRIGGER memberships_count_insert ON memberships;
DROP FUNCTION memberships_count();
DROP TRIGGER organization_member_counts_create ON organizations;
DROP FUNCTION organization_member_counts_create();
DROP TABLE organization_member_counts;
