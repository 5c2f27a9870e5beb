-- +goose Up
-- An invitation asks one account to join an organization; while it is pending the
-- membership is 'invited'. Only the SHA-256 of its token is stored; resending
-- replaces it. A pending invitation past expires_at reads as expired (it stays
-- 'pending' here). role_id is no foreign key: an accepted or cancelled invitation
-- keeps naming a custom role that was deleted since.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role_id      TEXT NOT NULL,
    token_hash   BYTEA NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'cancelled')),
    inviter_id   TEXT NOT NULL DEFAULT '',
    inviter_name TEXT NOT NULL DEFAULT '',
    expires_at   TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    accepted_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
-- The organization's list, newest first, all of it or by stored state.
CREATE INDEX invitations_org ON invitations (org_id, id);
CREATE INDEX invitations_state ON invitations (org_id, state, id);
-- At most one pending invitation per membership; it also finds that invitation.
CREATE UNIQUE INDEX invitations_pending_key ON invitations (org_id, account_id) WHERE state = 'pending';
-- Deleting an account cascades here.
CREATE INDEX invitations_account ON invitations (account_id);

-- An account asking to join an organization; approving it invites the account.
CREATE TABLE join_requests (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    message       TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
    decided_by    TEXT NOT NULL DEFAULT '',
    decided_at    TIMESTAMPTZ,
    invitation_id TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX join_requests_org ON join_requests (org_id, id);
CREATE INDEX join_requests_state ON join_requests (org_id, state, id);
-- At most one pending request per account and organization.
CREATE UNIQUE INDEX join_requests_pending_key ON join_requests (org_id, account_id) WHERE state = 'pending';
CREATE INDEX join_requests_account ON join_requests (account_id);

-- Single-use tokens sent by email (sign-up verification, password reset), by their
-- SHA-256. account_id is NULL for a sign-up (the account does not exist yet); a
-- password reset's token goes with its account.
CREATE TABLE account_tokens (
    token_hash BYTEA PRIMARY KEY,
    kind       TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    data       BYTEA,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
-- (account_id, kind) rather than (kind, account_id): it also serves the cascade.
CREATE INDEX account_tokens_account ON account_tokens (account_id, kind);
CREATE INDEX account_tokens_expires ON account_tokens (expires_at);

-- +goose Down
DROP TABLE account_tokens;
DROP TABLE join_requests;
DROP TABLE invitations;
