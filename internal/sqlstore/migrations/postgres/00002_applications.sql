-- +goose Up
-- Applications (what the vendor sells), their API keys, the organizations'
-- subscriptions (seat quotas over a period) and the seats members hold.
CREATE TABLE applications (
    id         TEXT PRIMARY KEY,
    key        TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX applications_key_key ON applications (key);

-- Only the SHA-256 of an application key is stored.
CREATE TABLE application_keys (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    key_hash       BYTEA NOT NULL,
    prefix         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_used_at   TIMESTAMPTZ,
    revoked_at     TIMESTAMPTZ
);
CREATE UNIQUE INDEX application_keys_key_hash_key ON application_keys (key_hash);
CREATE INDEX application_keys_application ON application_keys (application_id, created_at);

-- assigned is the number of seats rows of the subscription, kept by the triggers
-- below; subscriptions_quota then refuses, in the database, any seat beyond the quota
-- and any quota below the seats held. The trigger's UPDATE takes the subscription's
-- row lock, so concurrent seat inserts, from any number of processes, queue on it and
-- each checks the count its predecessor committed. (id, org_id) is unique so that a
-- seat's foreign key can name its organization too: a seat can never hold another
-- tenant's subscription.
CREATE TABLE subscriptions (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id),
    seats          INTEGER NOT NULL CONSTRAINT subscriptions_seats CHECK (seats >= 0),
    assigned       INTEGER NOT NULL DEFAULT 0,
    starts_at      TIMESTAMPTZ NOT NULL,
    ends_at        TIMESTAMPTZ NOT NULL,
    renewed_from   TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT subscriptions_org UNIQUE (id, org_id),
    CONSTRAINT subscriptions_quota CHECK (assigned <= seats)
);
CREATE INDEX subscriptions_application ON subscriptions (org_id, application_id, starts_at);

CREATE TABLE seats (
    subscription_id TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (subscription_id, account_id),
    FOREIGN KEY (subscription_id, org_id) REFERENCES subscriptions (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, account_id) REFERENCES memberships (org_id, account_id) ON DELETE CASCADE
);
CREATE INDEX seats_member ON seats (org_id, account_id, subscription_id);

-- The triggers fire for the rows that foreign key actions delete too (a membership
-- or an organization removed). Seats are never updated. Their names sort after the
-- foreign keys' "RI_ConstraintTrigger_…", so an insert checks its keys (KEY SHARE
-- locks) before it locks the subscription for the count.
-- +goose StatementBegin
CREATE FUNCTION seats_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE subscriptions SET assigned = assigned + 1 WHERE id = NEW.subscription_id;
        RETURN NEW;
    END IF;
    UPDATE subscriptions SET assigned = assigned - 1 WHERE id = OLD.subscription_id;
    RETURN OLD;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER seats_assigned_insert AFTER INSERT ON seats
    FOR EACH ROW EXECUTE FUNCTION seats_count();
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER seats_assigned_delete AFTER DELETE ON seats
    FOR EACH ROW EXECUTE FUNCTION seats_count();
-- +goose StatementEnd

-- +goose Down
DROP TABLE seats;
DROP FUNCTION seats_count();
DROP TABLE subscriptions;
DROP TABLE application_keys;
DROP TABLE applications;
