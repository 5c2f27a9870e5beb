-- +goose Up
-- Times are TEXT in a fixed-width RFC 3339 UTC form (see time.go), so that text order
-- is time order. Keys ending in _key are the lower-cased forms used for uniqueness
-- and case-insensitive lookups.
CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL,
    username            TEXT,
    username_key        TEXT,
    first_name          TEXT NOT NULL DEFAULT '',
    last_name           TEXT NOT NULL DEFAULT '',
    phone               TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL CHECK (state IN ('pending', 'active', 'disabled')),
    must_reset_password BOOLEAN NOT NULL DEFAULT FALSE,
    operator            BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash       TEXT NOT NULL DEFAULT '',
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (email_key);
CREATE UNIQUE INDEX accounts_username_key ON accounts (username_key);

CREATE TABLE organizations (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL CHECK (kind IN ('partner', 'organization')),
    parent_id            TEXT REFERENCES organizations (id),
    name                 TEXT NOT NULL,
    search               TEXT NOT NULL,
    slug                 TEXT NOT NULL,
    invitation_ttl_hours INTEGER NOT NULL,
    ending_soon_days     INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);
CREATE INDEX organizations_parent ON organizations (parent_id, id);

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    permissions TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX roles_name_key ON roles (org_id, name_key);
-- The predefined roles exist as rows only so that memberships.role_id is a foreign
-- key; their permissions live in code (account.PredefinedRoles).
INSERT INTO roles (id, org_id, name, name_key, permissions, active, created_at, updated_at) VALUES
    ('owner', NULL, 'Owner', 'owner', '', TRUE, '1970-01-01T00:00:00.000000Z', '1970-01-01T00:00:00.000000Z'),
    ('admin', NULL, 'Admin', 'admin', '', TRUE, '1970-01-01T00:00:00.000000Z', '1970-01-01T00:00:00.000000Z'),
    ('member', NULL, 'Member', 'member', '', TRUE, '1970-01-01T00:00:00.000000Z', '1970-01-01T00:00:00.000000Z');

-- search is the lower-cased "email username first last" of the account, kept here so
-- that the member list's q filter and its total scan one index, not a join.
CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role_id    TEXT NOT NULL REFERENCES roles (id),
    state      TEXT NOT NULL CHECK (state IN ('invited', 'active', 'deactivated')),
    search     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);
CREATE INDEX memberships_role ON memberships (org_id, role_id, account_id);
CREATE INDEX memberships_state ON memberships (org_id, state, account_id);
CREATE INDEX memberships_search ON memberships (org_id, account_id, search);

CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX teams_name_key ON teams (org_id, name_key);

CREATE TABLE team_members (
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (team_id, account_id),
    FOREIGN KEY (org_id, account_id) REFERENCES memberships (org_id, account_id) ON DELETE CASCADE
);
CREATE INDEX team_members_member ON team_members (org_id, account_id);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE setup_tokens (
    token_hash BLOB PRIMARY KEY,
    expires_at TEXT NOT NULL
);

-- Audit events keep no foreign keys: the trail outlives the accounts and
-- organizations it speaks of.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL DEFAULT '',
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_email TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    ip          TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE setup_tokens;
DROP TABLE sessions;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE memberships;
DROP TABLE roles;
DROP TABLE organizations;
DROP TABLE accounts;
