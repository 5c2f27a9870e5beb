-- +goose Up
-- The profile fields an organization requires of the people it adds with a profile
-- (the setting required_profile_fields, API.md): off for every organization there.
ALTER TABLE organizations ADD COLUMN require_phone BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN require_username BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE organizations DROP COLUMN require_username;
ALTER TABLE organizations DROP COLUMN require_phone;
