-- +goose Up
-- A message's one-time token (the secret its link carries) is kept apart while the
-- message waits, and replaced by [redacted] in its stored text by the statement that
-- marks it sent (scrubbed then tells so; a failed one keeps it, to be retried): the outbox keeps who, when and
-- which template, never a live link of a delivered email.
ALTER TABLE outbox ADD COLUMN secret TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN scrubbed BOOLEAN NOT NULL DEFAULT FALSE;

-- The messages already there: their secret is found in their link, the one href of
-- the HTML part (where names are escaped, so none can forge another), which ends
-- with the token: ri_, rv_ or rp_ and 43 characters of URL-safe base64.
UPDATE outbox SET secret = s.token
FROM (
    SELECT id, substr(rest, instr(rest, '"') - 46, 46) AS token
    FROM (SELECT id, substr(html_body, instr(html_body, 'href="') + 6) AS rest
          FROM outbox WHERE instr(html_body, 'href="') > 0) AS links
    WHERE instr(rest, '"') > 46
) AS s
WHERE outbox.id = s.id AND substr(s.token, 1, 3) IN ('ri_', 'rv_', 'rp_');
-- Those sent are scrubbed now; those pending or failed when they are sent.
UPDATE outbox SET
    text_body = replace(text_body, secret, '[redacted]'),
    html_body = replace(html_body, secret, '[redacted]'),
    scrubbed = TRUE, secret = ''
WHERE state = 'sent' AND secret <> '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN scrubbed;
ALTER TABLE outbox DROP COLUMN secret;
