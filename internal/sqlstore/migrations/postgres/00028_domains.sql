-- +goose Up
-- The email domains an organization proves it owns by a DNS TXT record
-- (_roster-verification.<domain> holding token). A domain is pending until the record
-- is seen (re-checked in the background until pending_until), then verified, or
-- expired when the week passes. One organization may add a domain once; a domain is
-- verified for one organization at a time (domains_verified_key), whatever others
-- hold it pending.
CREATE TABLE domains (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    domain        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'expired')),
    token         TEXT NOT NULL,
    -- How it was verified: 'dns', or 'operator' (marked verified, audited).
    verified_by   TEXT NOT NULL DEFAULT '',
    verified_at   TIMESTAMPTZ,
    checked_at    TIMESTAMPTZ,
    check_error   TEXT NOT NULL DEFAULT '',
    pending_until TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX domains_org_domain_key ON domains (org_id, domain);
CREATE UNIQUE INDEX domains_verified_key ON domains (domain) WHERE state = 'verified';
CREATE INDEX domains_pending ON domains (state, checked_at);

-- The people an organization's auto join policy made members, once each: whoever
-- leaves or is removed is not joined again (they may ask to join).
CREATE TABLE domain_joins (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX domain_joins_account ON domain_joins (account_id);

-- What a verified domain lets people of that address do (API.md's organization
-- settings): off, suggest or auto, and the role auto gives.
ALTER TABLE organizations ADD COLUMN domain_join_policy TEXT NOT NULL DEFAULT 'off';
ALTER TABLE organizations ADD COLUMN domain_join_role TEXT NOT NULL DEFAULT 'member';

-- +goose Down
ALTER TABLE organizations DROP COLUMN domain_join_role;
ALTER TABLE organizations DROP COLUMN domain_join_policy;
DROP TABLE domain_joins;
DROP TABLE domains;
