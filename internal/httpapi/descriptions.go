package httpapi

import "github.com/danielgtaylor/huma/v2"

// descriptions are the operations' descriptions in the OpenAPI document, by
// operation id (the summary is the one line op is given). op adds who may call the
// operation; TestOpenAPIDocument fails on an operation without one.
var descriptions = map[string]string{
	// Auth and self.
	"login": "Exchanges an email and a password for a session token, sent as `Authorization: Bearer <token>` afterwards. " +
		"`password_reset_required` says the account must change its password first. Attempts are rate limited per client address, " +
		"per email and per known device (`device_token`); a refusal never says whether the email has an account.",
	"logout":          "Revokes the session whose token authenticates the request. Other sessions of the account stay.",
	"get-me":          "The calling account and each of its memberships: organization, role, state, teams and seats.",
	"update-me":       "Changes the caller's own first and last name, phone or username. Fields left out stay as they are; no body changes nothing.",
	"change-password": "Changes the caller's password, given the current one. Wrong current passwords are rate limited per account. A session that must reset its password may call this.",
	"complete-setup": "Creates the first operator with the one-time setup token that `roster serve` prints on first start with an empty store. " +
		"The token works once.",
	"sign-up": "Starts a sign-up, when sign-up is enabled: a verification email goes to the address, whose link completes it " +
		"(POST /api/v1/auth/verify-email). The answer is 202 whether or not the address has an account already.",
	"verify-email":           "Completes a sign-up with the token of its verification email: the account becomes active and its email verified.",
	"request-password-reset": "Emails a password-reset link to the address when it has an account. The answer is 202 either way, so that it tells nobody whether the email is known.",
	"confirm-password-reset": "Sets a new password with the token of a password-reset email. Every session of the account is revoked; the token works once.",
	"preview-invitation":     "What an invitation link offers, for the page that accepts it: the organization, the email invited, the inviter, the expiry and whether the email has an account (to log in with) or not (to give names and a password).",
	"accept-invitation": "Accepts an invitation. A person new to Roster gives a password (and the names the inviter left out); " +
		"an existing account accepts with its own session. The membership becomes active and its reserved seats are the person's.",
	"list-permissions": "The permission catalogue, each with what it allows, and the predefined roles (owner, admin, member) with their permissions.",

	// Platform.
	"create-organization": "Creates a partner or an organization, optionally under a partner (`parent`). Operators create anything; a partner's admins create organizations under their partner.",
	"list-organizations":  "Lists the organizations the caller may see, filtered by `q` (name or slug), `kind` and `parent`. Paged with `limit` and `cursor`.",
	"get-organization":    "An organization by id or slug, with its settings.",
	"update-organization": "Changes an organization's name, slug or settings (invitation lifetime, how soon a subscription is \"ending soon\", SCIM activation emails). Needs `organization.manage`.",
	"delete-organization": "Deletes an organization with its memberships, roles and teams; the accounts survive. A partner that still has organizations is 409.",
	"delete-account":      "Deletes an account permanently, with its memberships and seats in every organization. Operators only.",
	"disable-account":     "Disables an account: its sessions and device tokens end at once, it cannot log in, and every entitlement check of it answers account-disabled; its memberships, teams and seats stay for enable-account to give back. Audited in the platform trail and in each of its organizations' (event account.disabled); the person is emailed. Operators only; not one's own account, nor the last active operator's (409). Disabling a disabled account changes nothing.",
	"enable-account":      "Enables a disabled account again: it can log in, and its memberships, teams and seats count as before. Audited like disable-account (event account.enabled); the person is emailed. Operators only. Enabling an account that is not disabled changes nothing.",
	"create-application":  "Defines an application: the software whose seats organizations are given. The `key` is permanent and names it in subscriptions and checks.",
	"list-applications":   "Lists the applications.",
	"get-application":     "An application by key.",
	"rename-application":  "Changes an application's display name; its key stays.",
	"create-application-key": "Issues an API key for the application, with which it calls the entitlement operations. The key is in this answer only; " +
		"Roster keeps a hash. The body (a `name` for the key) is optional.",
	"list-application-keys":  "Lists the application's API keys, without their secrets: name, prefix, when created, last used and revoked.",
	"revoke-application-key": "Revokes an API key at once: the next request with it is 401.",
	"list-seat-requests":     "Every organization's requests for more seats, filtered by `status`. Operators only.",
	"approve-seat-request":   "Approves a seat request: the quota of the organization's current subscription of the application rises by `seats`, or by the quantity asked for when left out. Operators only.",
	"deny-seat-request":      "Denies a seat request; the quota stays. Operators only.",
	"list-platform-audit":    "The audit events of actions outside organizations (applications, keys, accounts), newest first. Operators only.",

	// Organization.
	"get-summary":       "Counts of the organization's members by state, and its subscriptions with their seat counts.",
	"list-members":      "Lists and searches the organization's members: `q` matches email, names and username; filters by role, team, state, application and subscription. Paged with `limit` and `cursor`.",
	"add-member":        "Adds one person. With `send_invite: true` the person is invited by email (names optional: the invitee gives them on accepting); with `send_invite: false` a new email becomes an active account with the given names and password. An existing account this organization does not manage is always invited. Seats for `applications` are given or reserved at once. Counts against the caller's invitation emails.",
	"get-member":        "One member by account id.",
	"update-member":     "Changes a member's role, teams or profile fields. Fields left out stay as they are.",
	"deactivate-member": "Deactivates a member: the membership and its data stay, and the entitlement check answers `deactivated`. The last active owner cannot be deactivated.",
	"reactivate-member": "Reactivates a deactivated member.",
	"remove-member":     "Removes a member from the organization, with their teams and seats; the account and its other memberships stay.",
	"remove-members":    "Removes several members at once; each has its own result.",

	"invite":               "Invites up to 500 people with one role, teams and applications. Each email has its own result; one that fails leaves the others. Counts against the caller's invitation emails.",
	"list-invitations":     "The organization's invitations, newest first, filtered by `status`.",
	"resend-invitations":   "Resends several pending or expired invitations, each with a new link; each has its own result. Counts against the caller's invitation emails.",
	"get-invitation":       "One invitation (its token is never shown: it travels only in the email).",
	"resend-invitation":    "Resends a pending or expired invitation with a new link and a new expiry; the old link stops working. No body is needed. Counts against the caller's invitation emails.",
	"cancel-invitation":    "Cancels a pending or expired invitation: the invited membership and its reserved seats go. An accepted one is 409.",
	"list-join-requests":   "The requests to join the organization, newest first, filtered by `status`.",
	"create-join-request":  "The calling account asks to join the organization, with an optional message. Rate limited per account.",
	"approve-join-request": "Approves a join request: the requester is invited with the role, teams and applications given (member and none when left out).",
	"deny-join-request":    "Denies a join request; nothing else changes.",

	"import-template":     "An .xlsx template for importing people, with the organization's roles, teams and applications as drop-downs.",
	"upload-import":       "Uploads an .xlsx or .csv file of people (multipart field `file`). It is checked to be readable at once and applied in the background; the import's state and rejected rows are at GET …/imports/{id}.",
	"list-imports":        "The organization's imports, newest first, with their counters.",
	"get-import":          "An import's state, counters and rejected rows (row, field, message).",
	"import-errors":       "An import's rejected rows as a workbook: the file's own columns and an `error` column, to fix and upload again.",
	"export-members-xlsx": "The member list, with the list's filters, as an .xlsx workbook in the import's columns plus `state`.",
	"export-members-csv":  "The member list, with the list's filters, as CSV in the import's columns plus `state`.",

	"create-subscription":    "Gives the organization a seat quota of an application for a period. Operators, or the admins of the organization's partner.",
	"list-subscriptions":     "The organization's subscriptions with their seat counts, state and badges.",
	"get-subscription":       "One subscription with its seat counts.",
	"update-subscription":    "Changes a subscription's quota or end date; a quota below the seats assigned is 409.",
	"renew-subscription":     "Renews a subscription: a new one for the next period, with the old one's seats copied. A subscription is renewed once.",
	"assign-seat":            "Gives a member a seat of the subscription; 409 `quota-exceeded` when none is left.",
	"unassign-seat":          "Takes a member's seat of the subscription back.",
	"update-seats":           "Assigns and unassigns several seats of a subscription, all or nothing.",
	"create-seat-request":    "Asks the operators for more seats of an application, with a note.",
	"list-org-seat-requests": "The organization's own seat requests, filtered by `status`.",

	"list-roles":  "The predefined roles and the organization's custom roles, with their permissions.",
	"create-role": "Creates a custom role from the permission catalogue, within the caller's own permissions.",
	"get-role":    "One role with its permissions.",
	"update-role": "Changes a custom role's name, permissions or whether it may be assigned. Fields left out stay as they are.",
	"delete-role": "Deletes a custom role that no member holds.",

	"list-teams":  "The organization's teams.",
	"create-team": "Creates a team; names are unique in the organization, compared case-insensitively.",
	"get-team":    "One team.",
	"rename-team": "Renames a team.",
	"delete-team": "Deletes a team; its members stay members.",

	// Applications, with their API keys.
	"check":             "Whether the account may use the calling application in the organization now: `allowed` and the reason (ok, no-seat, not-member, deactivated, subscription-inactive, account-disabled). Authenticated by the application's API key.",
	"list-entitlements": "Every organization in which the account may use the calling application now, with the seat's subscription. Authenticated by the application's API key.",

	"create-webhook":          "Adds an endpoint that the application's events are POSTed to, signed as Standard Webhooks says (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The URL must be https. The secret is in this answer only.",
	"list-webhooks":           "The application's webhook endpoints, without their secrets.",
	"get-webhook":             "One webhook endpoint, without its secret.",
	"update-webhook":          "Changes an endpoint's URL, event types, description, or enabled flag (enabling it again after Roster disabled it on a 410 Gone).",
	"delete-webhook":          "Deletes an endpoint and its deliveries.",
	"put-oidc-client":         "Registers the application as a client of Roster's OpenID Connect provider (Sign in with Roster), or replaces its settings. The client_id is the application's id. A confidential client's secret is in the answer that makes it only. Redirect URIs are matched exactly; the authorization code flow takes PKCE (S256), which a public client must use. With require_seat, only people holding a live seat of the application in the organization they sign in to may sign in.",
	"get-oidc-client":         "The application's sign-in client, without its secret; 404 when it has none.",
	"rotate-oidc-secret":      "Gives a confidential client a new secret, in this answer only; the previous one stops working at once. A public client has no secret: 409.",
	"rotate-webhook-secret":   "Gives the endpoint a new secret, in this answer only; for 24 hours deliveries carry a signature by each, so the receiver can switch over.",
	"test-webhook":            "Sends a `webhook.test` event to this endpoint only; it is listed among its deliveries.",
	"list-webhook-deliveries": "The endpoint's deliveries, newest first: each event's latest attempt (status code, duration, error) and when the next one is due.",
	"retry-webhook-delivery":  "Makes a delivery due again now, whatever its state.",
	"list-events":             "The application's change events, in the order they were committed, each with a `sequence` increasing per application: pass the last one seen as `after` to read on (`next_cursor` is that value). An application learns only events of organizations subscribed to it, and seat and subscription events of its own subscriptions. With `wait` (up to 30s) an empty answer waits until an event arrives. Events are kept 30 days (`--events-keep`).",
	"list-scim-tokens":        "The organization's SCIM tokens, without their secrets.",
	"create-scim-token":       "Issues a SCIM token for an identity provider, which provisions users and groups at /scim/v2/organizations/{org}. The token is in this answer only. Needs `organization.manage`.",
	"revoke-scim-token":       "Revokes a SCIM token at once.",

	"list-audit": "The organization's audit events, newest first: who did what to which object, with the state before and after.",
}

// tags are the document's tags, in the order a reader meets them.
var tags = []*huma.Tag{
	{Name: "Auth", Description: "Sessions, the caller's own account, sign-up, password resets and the first operator's setup."},
	{Name: "Organizations", Description: "Partners and the organizations under them."},
	{Name: "Accounts", Description: "Accounts across organizations (operators)."},
	{Name: "Applications", Description: "The applications whose seats are sold, and their API keys."},
	{Name: "Members", Description: "An organization's members, their counts and exports."},
	{Name: "Invitations", Description: "Invitations: sent by admins, accepted from the email's link."},
	{Name: "Join requests", Description: "Requests of accounts to join an organization."},
	{Name: "Domains", Description: "An organization's email domains, proven by a DNS TXT record; people whose email is at a verified one may find or join the organization (domain_join_policy)."},
	{Name: "Imports", Description: "Bulk additions and updates from .xlsx or .csv files."},
	{Name: "Subscriptions", Description: "Seat quotas, seats and requests for more seats."},
	{Name: "Roles", Description: "Permissions, predefined roles and custom roles."},
	{Name: "Teams", Description: "An organization's teams."},
	{Name: "Entitlements", Description: "What applications ask with their API keys: may this account use me here now?"},
	{Name: "Sign in with Roster", Description: "The applications' OpenID Connect clients: Roster signs people in to the vendor's applications (discovery at /.well-known/openid-configuration, endpoints under /oauth/)."},
	{Name: "Events", Description: "Change events of the organizations subscribed to an application: its feed, read by the application's own key."},
	{Name: "SCIM", Description: "Tokens for identity providers that provision an organization over SCIM 2.0."},
	{Name: "Audit", Description: "Who did what, when."},
}
