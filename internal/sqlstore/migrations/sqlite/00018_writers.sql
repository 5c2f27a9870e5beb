-- +goose Up
-- PostgreSQL's 00018 gives each transaction rows of its own in
-- organization_member_counts, so that concurrent writers never deadlock on them.
-- SQLite has one writer at a time: its eight shards of 00009 stay, and the count is
-- the sum of an organization's rows on both engines.

-- A subscription is renewed at most once (API.md): a second renewal of it is a
-- conflict. Should a store already hold several renewals of one subscription (made
-- before this rule), the first keeps the link and the later ones stand on their
-- own, as renewals always did once made.
UPDATE subscriptions SET renewed_from = NULL
WHERE id IN (SELECT id FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY renewed_from ORDER BY created_at, id) AS nth
    FROM subscriptions WHERE renewed_from IS NOT NULL) r WHERE nth > 1);
CREATE UNIQUE INDEX subscriptions_renewed_from_key ON subscriptions (renewed_from);

-- +goose Down
DROP INDEX subscriptions_renewed_from_key;
