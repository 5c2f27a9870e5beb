-- +goose Up
-- The email outbox: a message is written in the same transaction as the change that
-- causes it and delivered later by the outbox worker, which claims a batch of pending
-- messages (next_at <= now, claim absent or expired) for a lease of claimed_until. A
-- worker that dies after claiming leaves its messages to be claimed again once their
-- lease expires, so no message is lost (one may be sent twice; its Message-ID is the
-- same both times). org_id is the organization the message concerns, or ''; it is no
-- foreign key, so that deleting an organization does not lose mail already promised.
-- next_at is, for a pending message, when it is due; for a failed one, when it failed.
CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL,
    to_addr       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    text_body     TEXT NOT NULL,
    html_body     TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       TEXT NOT NULL,
    claimed_until TEXT,
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    sent_at       TEXT
);
-- Claiming: the pending messages due first.
CREATE INDEX outbox_claim ON outbox (state, next_at);

-- +goose Down
DROP TABLE outbox;
