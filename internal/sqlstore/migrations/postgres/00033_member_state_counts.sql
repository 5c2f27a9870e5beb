-- +goose Up
-- The member counts of 00009 and 00018 split by state, so that an organization's
-- summary and a list filtered by state alone read its few rows instead of counting
-- every membership (160–220 ms at 1,000,000 members). The rows are kept as in
-- 00018: each transaction adds its changes to a row of its own, folded now and then
-- into the base (row 0); the state columns ride along with members.
ALTER TABLE organization_member_counts
    ADD COLUMN active BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN invited BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN deactivated BIGINT NOT NULL DEFAULT 0;

-- The members already there, counted by state into each organization's base.
UPDATE organization_member_counts c SET
    active = s.active, invited = s.invited, deactivated = s.deactivated
FROM (SELECT org_id,
        COUNT(*) FILTER (WHERE state = 'active') AS active,
        COUNT(*) FILTER (WHERE state = 'invited') AS invited,
        COUNT(*) FILTER (WHERE state = 'deactivated') AS deactivated
    FROM memberships GROUP BY org_id) s
WHERE c.org_id = s.org_id AND c.shard = 0;

DROP TRIGGER memberships_count_delete ON memberships;
DROP TRIGGER memberships_count_insert ON memberships;
DROP FUNCTION memberships_count_delete();
DROP FUNCTION memberships_count_insert();
DROP FUNCTION organization_member_counts_add(jsonb);

-- +goose StatementBegin
CREATE FUNCTION organization_member_counts_add(changes jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    me  BIGINT := txid_current();
    org TEXT;
BEGIN
    -- changes is {org_id: {"members": d, "active": d, "invited": d, "deactivated": d}};
    -- the rows are this transaction's (see 00018).
    INSERT INTO organization_member_counts (org_id, shard, members, active, invited, deactivated)
    SELECT j.key, me, (j.value->>'members')::bigint, (j.value->>'active')::bigint,
        (j.value->>'invited')::bigint, (j.value->>'deactivated')::bigint
    FROM jsonb_each(changes) j
    WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = j.key) ORDER BY j.key
    ON CONFLICT (org_id, shard) DO UPDATE SET
        members = organization_member_counts.members + EXCLUDED.members,
        active = organization_member_counts.active + EXCLUDED.active,
        invited = organization_member_counts.invited + EXCLUDED.invited,
        deactivated = organization_member_counts.deactivated + EXCLUDED.deactivated;
    IF random() >= 0.0625 THEN
        RETURN;
    END IF;
    FOR org IN SELECT key FROM jsonb_each(changes) ORDER BY key LOOP
        IF pg_try_advisory_xact_lock(hashtext('organization_member_counts'), hashtext(org)) THEN
            WITH folded AS (
                DELETE FROM organization_member_counts
                WHERE org_id = org AND shard <> 0 AND shard <> me
                RETURNING members, active, invited, deactivated),
            s AS (SELECT COALESCE(SUM(members), 0) AS members, COALESCE(SUM(active), 0) AS active,
                    COALESCE(SUM(invited), 0) AS invited, COALESCE(SUM(deactivated), 0) AS deactivated
                FROM folded)
            UPDATE organization_member_counts c SET
                members = c.members + s.members, active = c.active + s.active,
                invited = c.invited + s.invited, deactivated = c.deactivated + s.deactivated
            FROM s WHERE c.org_id = org AND c.shard = 0;
        END IF;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- The insert and delete triggers pass organization_member_counts_add the rows of
-- memberships added or removed, counted by organization and state.
-- +goose StatementBegin
CREATE FUNCTION memberships_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM organization_member_counts_add((
        SELECT jsonb_object_agg(org_id, jsonb_build_object('members', n, 'active', a, 'invited', i, 'deactivated', d))
        FROM (SELECT org_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE state = 'active') AS a,
                COUNT(*) FILTER (WHERE state = 'invited') AS i, COUNT(*) FILTER (WHERE state = 'deactivated') AS d
            FROM added GROUP BY org_id) g))
    WHERE EXISTS (SELECT 1 FROM added);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION memberships_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM organization_member_counts_add((
        SELECT jsonb_object_agg(org_id, jsonb_build_object('members', -n, 'active', -a, 'invited', -i, 'deactivated', -d))
        FROM (SELECT org_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE state = 'active') AS a,
                COUNT(*) FILTER (WHERE state = 'invited') AS i, COUNT(*) FILTER (WHERE state = 'deactivated') AS d
            FROM removed GROUP BY org_id) g))
    WHERE EXISTS (SELECT 1 FROM removed);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- An update moves a membership between states (its keys are never updated); only the
-- organizations whose counts change get a row.
-- +goose StatementBegin
CREATE FUNCTION memberships_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM organization_member_counts_add(changes)
    FROM (SELECT jsonb_object_agg(org_id, jsonb_build_object('members', 0, 'active', a, 'invited', i, 'deactivated', d)) AS changes
        FROM (SELECT org_id, SUM(s * (state = 'active')::int) AS a, SUM(s * (state = 'invited')::int) AS i,
                SUM(s * (state = 'deactivated')::int) AS d
            FROM (SELECT org_id, state, 1 AS s FROM after UNION ALL SELECT org_id, state, -1 FROM before) u
            GROUP BY org_id) g
        WHERE a <> 0 OR i <> 0 OR d <> 0) c
    WHERE changes IS NOT NULL;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

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

-- +goose StatementBegin
CREATE TRIGGER memberships_count_update AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS before NEW TABLE AS after
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_count_update();
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER memberships_count_update ON memberships;
DROP TRIGGER memberships_count_delete ON memberships;
DROP TRIGGER memberships_count_insert ON memberships;
DROP FUNCTION memberships_count_update();
DROP FUNCTION memberships_count_delete();
DROP FUNCTION memberships_count_insert();
DROP FUNCTION organization_member_counts_add(jsonb);

-- +goose StatementBegin
CREATE FUNCTION organization_member_counts_add(changes jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    me  BIGINT := txid_current();
    org TEXT;
BEGIN
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

-- Each organization's counts folded into its base, without the state columns.
UPDATE organization_member_counts c SET members = s.members
FROM (SELECT org_id, SUM(members) AS members FROM organization_member_counts GROUP BY org_id) s
WHERE c.org_id = s.org_id AND c.shard = 0;
DELETE FROM organization_member_counts WHERE shard <> 0;
ALTER TABLE organization_member_counts
    DROP COLUMN deactivated, DROP COLUMN invited, DROP COLUMN active;
