-- +goose Up
-- SCIM 2.0 provisioning (account/scim*.go). A token reaches one organization's SCIM
-- endpoint; only its SHA-256 is stored. created_by is no foreign key: the token
-- outlives its creator's account.
CREATE TABLE scim_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    description  TEXT NOT NULL,
    token_hash   BLOB NOT NULL,
    prefix       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE UNIQUE INDEX scim_tokens_token_hash_key ON scim_tokens (token_hash);
CREATE INDEX scim_tokens_org ON scim_tokens (org_id, created_at);

-- What an organization's identity provider says of a member, kept per membership and
-- gone with it. user_name_key is the lower-cased userName, unique in the
-- organization; emails_text and phones_text are the lower-cased values of emails and
-- phoneNumbers, each line one value, which filters match; emails, phones and extra
-- are JSON, returned as they were given.
CREATE TABLE scim_users (
    org_id          TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    user_name_key   TEXT NOT NULL,
    external_id     TEXT,
    display_name    TEXT NOT NULL DEFAULT '',
    formatted_name  TEXT NOT NULL DEFAULT '',
    emails          TEXT NOT NULL DEFAULT '[]',
    emails_text     TEXT NOT NULL DEFAULT '',
    phones          TEXT NOT NULL DEFAULT '[]',
    phones_text     TEXT NOT NULL DEFAULT '',
    department      TEXT NOT NULL DEFAULT '',
    employee_number TEXT NOT NULL DEFAULT '',
    manager         TEXT NOT NULL DEFAULT '',
    extra           TEXT NOT NULL DEFAULT '{}',
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (org_id, account_id),
    FOREIGN KEY (org_id, account_id) REFERENCES memberships (org_id, account_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX scim_users_user_name_key ON scim_users (org_id, user_name_key);
CREATE INDEX scim_users_external_id ON scim_users (org_id, external_id);

-- A team's externalId and the time SCIM last changed it (its name or members).
CREATE TABLE scim_groups (
    team_id     TEXT PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL,
    external_id TEXT,
    updated_at  TEXT NOT NULL
);

-- The name the identity provider gave a group's member (shown in the group's
-- members), gone with the team membership.
CREATE TABLE scim_group_members (
    team_id    TEXT NOT NULL,
    account_id TEXT NOT NULL,
    display    TEXT NOT NULL,
    PRIMARY KEY (team_id, account_id),
    FOREIGN KEY (team_id, account_id) REFERENCES team_members (team_id, account_id) ON DELETE CASCADE
);

-- Whether a person SCIM gives a new account is emailed a link to set a password.
ALTER TABLE organizations ADD COLUMN scim_activation_email BOOLEAN NOT NULL DEFAULT TRUE;

-- +goose Down
ALTER TABLE organizations DROP COLUMN scim_activation_email;
DROP TABLE scim_group_members;
DROP TABLE scim_groups;
DROP TABLE scim_users;
DROP TABLE scim_tokens;
