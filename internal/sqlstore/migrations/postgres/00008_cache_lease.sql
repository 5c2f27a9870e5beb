-- +goose Up
-- The cache lease (sqlstore/cachelease.go): the one Roster process, if any, that may
-- answer entitlement checks from memory. It holds the lease only while no other
-- process writes: every other writer sees the lease in its transaction, revokes it
-- and waits until the holder lets go or the lease runs out. Times are Unix
-- milliseconds by the database's clock.
CREATE TABLE cache_lease (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    holder        TEXT,
    until_ms      BIGINT NOT NULL DEFAULT 0,
    revoked       BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_at_ms BIGINT NOT NULL DEFAULT 0
);
INSERT INTO cache_lease (id) VALUES (1);

-- +goose Down
DROP TABLE cache_lease;
