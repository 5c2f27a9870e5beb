-- +goose Up
-- A requester may withdraw their own pending join request: it becomes cancelled.
ALTER TABLE join_requests DROP CONSTRAINT join_requests_state_check;
ALTER TABLE join_requests ADD CONSTRAINT join_requests_state_check
    CHECK (state IN ('pending', 'approved', 'denied', 'cancelled'));

-- +goose Down
-- A withdrawn request reads as denied once the state is gone: nobody approved it.
UPDATE join_requests SET state = 'denied' WHERE state = 'cancelled';
ALTER TABLE join_requests DROP CONSTRAINT join_requests_state_check;
ALTER TABLE join_requests ADD CONSTRAINT join_requests_state_check
    CHECK (state IN ('pending', 'approved', 'denied'));
