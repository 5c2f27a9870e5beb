-- +goose Up
-- OpenID Connect Back-Channel Logout 1.0: where an application's client is told,
-- server to server, that a person's sign-in ended ('' for nowhere).
ALTER TABLE oidc_clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';

-- The logout notices to send: one per sign-in (sid, its authorization request's id)
-- of a person whose grants a deactivation, a removal, a disable, a deletion or a
-- password reset ended, written in the transaction that ended them. The worker
-- claims the due pending ones (next_at <= now, claim absent or expired) as the
-- webhooks' worker does. account_id and organization_id have no foreign key: a
-- deleted account's applications are told too.
CREATE TABLE oidc_logout_notices (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    sid             TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    status_code     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_at         TIMESTAMPTZ NOT NULL,
    claimed_until   TIMESTAMPTZ,
    claimed_by      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_logout_notices_claim ON oidc_logout_notices (state, next_at);
CREATE INDEX oidc_logout_notices_account ON oidc_logout_notices (account_id, application_id);

-- Ending a person's sign-ins finds their tokens of every application.
CREATE INDEX oidc_refresh_tokens_person ON oidc_refresh_tokens (account_id, organization_id);
CREATE INDEX oidc_access_tokens_person ON oidc_access_tokens (account_id, organization_id);

-- +goose Down
DROP INDEX oidc_access_tokens_person;
DROP INDEX oidc_refresh_tokens_person;
DROP TABLE oidc_logout_notices;
ALTER TABLE oidc_clients DROP COLUMN backchannel_logout_uri;
