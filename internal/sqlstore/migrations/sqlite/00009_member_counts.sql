-- +goose Up
-- How many members each organization has, kept by triggers as seats are counted in
-- subscriptions.assigned, so that a list's total without a filter (SCIM's
-- totalResults on every page, the member list's) reads eight rows instead of
-- counting 100,000. The count is split over eight shards chosen by the account id's
-- last character, so that concurrent writers in one organization seldom wait for
-- the same row (on PostgreSQL; SQLite's writers are serial anyway). An
-- organization's shards are made with it.
CREATE TABLE organization_member_counts (
    org_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    shard   INTEGER NOT NULL CHECK (shard BETWEEN 0 AND 7),
    members INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, shard)
);

-- The members already there, counted in one pass.
INSERT INTO organization_member_counts (org_id, shard, members)
SELECT o.id, s.shard, COALESCE(c.members, 0)
FROM organizations o
CROSS JOIN (SELECT 0 AS shard UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3
    UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7) s
LEFT JOIN (SELECT org_id, unicode(substr(account_id, -1)) % 8 AS shard, COUNT(*) AS members
    FROM memberships GROUP BY org_id, unicode(substr(account_id, -1)) % 8) c
    ON c.org_id = o.id AND c.shard = s.shard;

-- +goose StatementBegin
CREATE TRIGGER organization_member_counts_create AFTER INSERT ON organizations
BEGIN
    INSERT INTO organization_member_counts (org_id, shard, members)
    VALUES (NEW.id, 0, 0), (NEW.id, 1, 0), (NEW.id, 2, 0), (NEW.id, 3, 0),
           (NEW.id, 4, 0), (NEW.id, 5, 0), (NEW.id, 6, 0), (NEW.id, 7, 0);
END;
-- +goose StatementEnd

-- The membership triggers fire for the rows that foreign key actions delete too (an
-- account or an organization removed). A membership's keys are never updated.
-- +goose StatementBegin
CREATE TRIGGER memberships_count_insert AFTER INSERT ON memberships
BEGIN
    UPDATE organization_member_counts SET members = members + 1
    WHERE org_id = NEW.org_id AND shard = unicode(substr(NEW.account_id, -1)) % 8;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memberships_count_delete AFTER DELETE ON memberships
BEGIN
    UPDATE organization_member_counts SET members = members - 1
    WHERE org_id = OLD.org_id AND shard = unicode(substr(OLD.account_id, -1)) % 8;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER memberships_count_delete;
DROP TRIGGER memberships_count_insert;
DROP TRIGGER organization_member_counts_create;
DROP TABLE organization_member_counts;
