-- +goose Up
-- Who holds a message's claim (claimed_until): the outbox worker that claimed it, as
-- an identity of its own (host/pid/random). Only that worker renews its claim while it
-- is still sending the batch, and hands the claims it has not used back at shutdown
-- (claimed_until = NULL), so that another worker takes them at once. '' for a message
-- never claimed, and for claims made before this column.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN claimed_by;
