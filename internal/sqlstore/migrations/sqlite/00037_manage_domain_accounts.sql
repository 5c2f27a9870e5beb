-- +goose Up
-- manage_domain_accounts (API.md's organization settings): the organization manages
-- the accounts whose email is at one of its verified domains. Only the switch is
-- stored: who is managed that way is computed from the current verified domains
-- (account.ManagingDomain), never copied into accounts.managed_by.
ALTER TABLE organizations ADD COLUMN manage_domain_accounts BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE organizations DROP COLUMN manage_domain_accounts;
