-- +goose Up
-- An organization's request for more seats of an application, which an operator
-- approves (raising a subscription's quota) or denies.
CREATE TABLE seat_requests (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    application_id  TEXT NOT NULL REFERENCES applications (id),
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    note            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    requested_by    TEXT NOT NULL,
    requester_email TEXT NOT NULL,
    decided_by      TEXT NOT NULL DEFAULT '',
    approved_seats  INTEGER NOT NULL DEFAULT 0,
    subscription_id TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    decided_at      TEXT
);
CREATE INDEX seat_requests_status ON seat_requests (status, id);
CREATE INDEX seat_requests_org ON seat_requests (org_id, id);

-- The entitlements of one account, across organizations.
CREATE INDEX seats_account ON seats (account_id);

-- +goose Down
DROP INDEX seats_account;
DROP TABLE seat_requests;
