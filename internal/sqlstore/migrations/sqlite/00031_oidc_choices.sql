-- +goose Up
-- The organization a person last picked to sign in to an application: the picker
-- offers it first next time.
CREATE TABLE oidc_org_choices (
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (account_id, application_id)
);

-- +goose Down
DROP TABLE oidc_org_choices;
