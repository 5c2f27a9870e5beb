-- +goose Up
-- The sent messages whose bodies are still kept, by when they were sent: what the
-- retention sweep (PruneSentEmails) empties once they are older than the operator
-- keeps them (--outbox-keep-bodies), without reading the rest of the outbox.
CREATE INDEX outbox_sent_bodies ON outbox (sent_at) WHERE state = 'sent' AND (text_body <> '' OR html_body <> '');

-- +goose Down
DROP INDEX outbox_sent_bodies;
