-- +goose Up
-- An application's webhook endpoints (Standard Webhooks). events is the types an
-- endpoint takes, comma-separated ('' for every type). secret signs its deliveries;
-- previous_secret signs beside it until previous_until, after a rotation. They are
-- kept so that the delivery worker can sign, and shown by the API only when made.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    secret          TEXT NOT NULL,
    previous_secret TEXT NOT NULL DEFAULT '',
    previous_until  TEXT,
    disabled_reason TEXT NOT NULL DEFAULT '',
    -- When its deliveries began to fail without one delivered since (NULL when the
    -- last one succeeded): failing for 5 days disables it.
    failing_since   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_application ON webhook_endpoints (application_id, id);

-- One event's delivery to one endpoint, with its latest attempt. The relay writes
-- it in the transaction that numbers the event; the worker claims due pending ones
-- (next_at <= now, claim absent or expired) as the outbox's worker does.
CREATE TABLE webhook_deliveries (
    id            TEXT PRIMARY KEY,
    endpoint_id   TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id      TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    event_type    TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    status_code   INTEGER NOT NULL DEFAULT 0,
    duration_ms   INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    next_at       TEXT NOT NULL,
    claimed_until TEXT,
    claimed_by    TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_claim ON webhook_deliveries (state, next_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
