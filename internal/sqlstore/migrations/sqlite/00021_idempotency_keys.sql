-- +goose Up
-- The Idempotency-Key of API requests (IETF httpapi draft): one row per caller and
-- key, kept 24 hours from the first request. caller is the authenticated principal
-- ("account:<id>", "application:<id>", or "anonymous" for public operations), and
-- every query filters on it, so no caller reaches another's keys. key_hash is a
-- SHA-256 of the caller and the key: the key itself is never stored, and the stored
-- answer (answer) is sealed with AES-GCM under a key derived from it, so that the
-- secrets some answers show once (session tokens, API keys) are not readable from a
-- copy of the database. fingerprint is a SHA-256 of the method, path and body.
-- A request reserves its row (state 'pending', owner its own random id, lease_until
-- a short lease) before it runs and completes it ('done', answer) after; every
-- write transaction of the request first marks the row applied while its owner still
-- holds it, in the same transaction, so that a reservation taken over after its
-- lease lapsed fences the old request's writes, and a retry after a crash between
-- commit and completion learns that the request was applied rather than running it
-- again.
CREATE TABLE idempotency_keys (
    caller      TEXT    NOT NULL,
    key_hash    BLOB    NOT NULL,
    fingerprint BLOB    NOT NULL,
    owner       TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'done')),
    applied     BOOLEAN NOT NULL DEFAULT FALSE,
    answer      BLOB,
    created_at  TEXT    NOT NULL,
    lease_until TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    PRIMARY KEY (caller, key_hash)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
