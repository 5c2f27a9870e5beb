-- +goose Up
-- What an authorization request asks of the login (OpenID Connect Core 3.1.2.1):
-- prompt (space-separated: none, login, consent, select_account) and max_age in
-- seconds (NULL: not asked; prompt=login makes it 0).
ALTER TABLE oidc_auth_requests ADD COLUMN prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_auth_requests ADD COLUMN max_age INTEGER;

-- +goose Down
ALTER TABLE oidc_auth_requests DROP COLUMN max_age;
ALTER TABLE oidc_auth_requests DROP COLUMN prompt;
