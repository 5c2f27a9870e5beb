-- +goose Up
-- Change events for the vendor's applications (issue 21). The transaction of a change
-- writes its event into events and one pending row per application that may learn
-- of it into event_feed (sequence NULL): the targets are decided there, inside the
-- writing transaction. The relay (RelayEvents, one at a time per deployment) later
-- gives each pending row the next sequence of its application, from event_sequences,
-- after the writer's commit is visible: so sequences follow the order in which events
-- became visible, and a reader of "after N" never misses an event committed late.
-- Only rows with a sequence are shown. created_at is kept on both tables for the
-- retention sweep (--events-keep), which deletes events and, by cascade, their rows.
CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL DEFAULT '',
    type       TEXT NOT NULL,
    data_json  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE event_feed (
    application_id TEXT NOT NULL,
    event_id       TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sequence       BIGINT,
    relayed_at     TIMESTAMPTZ,
    PRIMARY KEY (application_id, event_id)
);
-- The feed of one application, in sequence order.
CREATE UNIQUE INDEX event_feed_sequence ON event_feed (application_id, sequence);
-- What the relay has still to number.
CREATE INDEX event_feed_pending ON event_feed (event_id) WHERE sequence IS NULL;

-- The last sequence given in each application's feed; only the relay writes it.
CREATE TABLE event_sequences (
    application_id TEXT PRIMARY KEY,
    last_sequence  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE event_sequences;
DROP TABLE event_feed;
DROP TABLE events;
