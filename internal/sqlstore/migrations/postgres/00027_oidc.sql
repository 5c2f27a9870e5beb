-- +goose Up
-- Sign in with Roster: Roster is the OpenID Connect provider of the applications.
-- An application's client (one at most): only the SHA-256 of a confidential
-- client's secret is kept (NULL for a public client); the URIs are newline-separated
-- and matched exactly.
CREATE TABLE oidc_clients (
    application_id            TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    client_id                 TEXT NOT NULL,
    secret_hash               BYTEA,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '',
    public                    BOOLEAN NOT NULL DEFAULT FALSE,
    require_seat              BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX oidc_clients_client_id ON oidc_clients (client_id);

-- An authorization request, from /oauth/authorize until its code is exchanged (or
-- it expires). The person and the organization are set when they sign in (done);
-- only the SHA-256 of the code is kept, and code_used marks it spent: a second
-- exchange of it revokes what the first one issued.
CREATE TABLE oidc_auth_requests (
    id                    TEXT PRIMARY KEY,
    application_id        TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    response_type         TEXT NOT NULL,
    response_mode         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    organization_hint     TEXT NOT NULL DEFAULT '',
    account_id            TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    organization_id       TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    auth_time             TIMESTAMPTZ,
    done                  BOOLEAN NOT NULL DEFAULT FALSE,
    code_hash             BYTEA,
    code_used             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            TIMESTAMPTZ NOT NULL,
    expires_at            TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX oidc_auth_requests_code ON oidc_auth_requests (code_hash);
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

-- The access tokens issued (JWTs; the row is what revocation and userinfo read).
-- family_id is the refresh-token family it came with ('' for none).
CREATE TABLE oidc_access_tokens (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    auth_request_id TEXT NOT NULL,
    family_id       TEXT NOT NULL DEFAULT '',
    scopes          TEXT NOT NULL,
    revoked         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_access_tokens_family ON oidc_access_tokens (application_id, family_id);
CREATE INDEX oidc_access_tokens_request ON oidc_access_tokens (application_id, auth_request_id);
CREATE INDEX oidc_access_tokens_account ON oidc_access_tokens (application_id, account_id);
CREATE INDEX oidc_access_tokens_expiry ON oidc_access_tokens (expires_at);

-- Refresh tokens: each use spends one (used) and issues the next of its family; a
-- spent or revoked one presented again revokes the whole family.
CREATE TABLE oidc_refresh_tokens (
    id              TEXT PRIMARY KEY,
    token_hash      BYTEA NOT NULL,
    family_id       TEXT NOT NULL,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    auth_request_id TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    auth_time       TIMESTAMPTZ NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('active', 'used', 'revoked')),
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ
);
CREATE UNIQUE INDEX oidc_refresh_tokens_hash ON oidc_refresh_tokens (token_hash);
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (application_id, family_id);
CREATE INDEX oidc_refresh_tokens_request ON oidc_refresh_tokens (application_id, auth_request_id);
CREATE INDEX oidc_refresh_tokens_account ON oidc_refresh_tokens (application_id, account_id);

-- The signing keys (ES256): one current, the previous ones still in the JWKS until
-- retired. private_key is the PKCS #8 key, base64, or sealed with the key
-- encryption key (AES-256-GCM, "sealed:" prefix) when one is configured.
CREATE TABLE oidc_signing_keys (
    id          TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('current', 'previous', 'retired')),
    created_at  TIMESTAMPTZ NOT NULL,
    rotated_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX oidc_signing_keys_current ON oidc_signing_keys (state) WHERE state = 'current';

-- +goose Down
DROP TABLE oidc_signing_keys;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_access_tokens;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
