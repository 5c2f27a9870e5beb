-- +goose Up
-- Who may act on a person (API.md): the organization that manages an account, until
-- its owner proves the mailbox, and whether the mailbox was proven. An organization's
-- deletion leaves its accounts managed by no one.
ALTER TABLE accounts ADD COLUMN managed_by TEXT REFERENCES organizations (id) ON DELETE SET NULL;
ALTER TABLE accounts ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX accounts_managed_by ON accounts (managed_by);
-- The names an identity provider gives a member, kept with the membership: they are
-- the account's own only where the organization manages it.
ALTER TABLE scim_users ADD COLUMN given_name TEXT NOT NULL DEFAULT '';
ALTER TABLE scim_users ADD COLUMN family_name TEXT NOT NULL DEFAULT '';

-- The accounts already there. A mailbox was proven by accepting an invitation, by a
-- sign-up's link or by a password reset; operators were set up by the vendor.
UPDATE accounts SET email_verified = TRUE
WHERE operator = TRUE
   OR id IN (SELECT account_id FROM invitations WHERE state = 'accepted')
   OR id IN (SELECT target_id FROM audit_events
             WHERE action IN ('account.signed_up', 'account.password_reset') AND target_type = 'account');
-- Any other account was made by an organization: with a password or for an import
-- (the member.added event that created it says so), or by inviting an address Roster
-- did not know (its first invitation, while it is still pending).
UPDATE accounts SET managed_by = (
    SELECT e.org_id FROM audit_events e
    WHERE e.action = 'member.added' AND e.target_type = 'account' AND e.target_id = accounts.id
      AND e.after_json LIKE '%"account_created":true%'
      AND e.org_id IN (SELECT id FROM organizations)
    ORDER BY e.id LIMIT 1)
WHERE operator = FALSE AND email_verified = FALSE AND state = 'active';
UPDATE accounts SET managed_by = (
    SELECT i.org_id FROM invitations i WHERE i.account_id = accounts.id
    ORDER BY i.created_at, i.id LIMIT 1)
WHERE operator = FALSE AND email_verified = FALSE AND state = 'pending';

-- +goose Down
ALTER TABLE scim_users DROP COLUMN family_name;
ALTER TABLE scim_users DROP COLUMN given_name;
DROP INDEX accounts_managed_by;
ALTER TABLE accounts DROP COLUMN email_verified;
ALTER TABLE accounts DROP COLUMN managed_by;
