-- +goose Up
-- A requester may withdraw their own pending join request: it becomes cancelled.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with the new one
-- (no other table references join_requests).
CREATE TABLE join_requests_new (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    message       TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'cancelled')),
    decided_by    TEXT NOT NULL DEFAULT '',
    decided_at    TEXT,
    invitation_id TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
INSERT INTO join_requests_new (id, org_id, account_id, message, state, decided_by, decided_at,
    invitation_id, created_at, updated_at)
SELECT id, org_id, account_id, message, state, decided_by, decided_at, invitation_id, created_at, updated_at
FROM join_requests;
DROP TABLE join_requests;
ALTER TABLE join_requests_new RENAME TO join_requests;
CREATE INDEX join_requests_org ON join_requests (org_id, id);
CREATE INDEX join_requests_state ON join_requests (org_id, state, id);
-- At most one pending request per account and organization.
CREATE UNIQUE INDEX join_requests_pending_key ON join_requests (org_id, account_id) WHERE state = 'pending';
CREATE INDEX join_requests_account ON join_requests (account_id);

-- +goose Down
-- A withdrawn request reads as denied once the state is gone: nobody approved it.
CREATE TABLE join_requests_old (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    message       TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
    decided_by    TEXT NOT NULL DEFAULT '',
    decided_at    TEXT,
    invitation_id TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
INSERT INTO join_requests_old (id, org_id, account_id, message, state, decided_by, decided_at,
    invitation_id, created_at, updated_at)
SELECT id, org_id, account_id, message, CASE state WHEN 'cancelled' THEN 'denied' ELSE state END,
    decided_by, decided_at, invitation_id, created_at, updated_at
FROM join_requests;
DROP TABLE join_requests;
ALTER TABLE join_requests_old RENAME TO join_requests;
CREATE INDEX join_requests_org ON join_requests (org_id, id);
CREATE INDEX join_requests_state ON join_requests (org_id, state, id);
CREATE UNIQUE INDEX join_requests_pending_key ON join_requests (org_id, account_id) WHERE state = 'pending';
CREATE INDEX join_requests_account ON join_requests (account_id);
