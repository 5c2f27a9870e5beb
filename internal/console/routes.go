package console

import (
	"net/http"

	"roster.dev/roster/internal/account"
)

// routes is the console's whole surface, one line per page or action.
func (c *Console) routes() {
	m := c.mux
	m.Handle("GET /static/", staticHandler())
	m.HandleFunc("GET /", c.authed("Roster", c.home))

	// Signing in and out, and the public links of emails.
	m.HandleFunc("GET /login", c.public("Log in", c.loginForm))
	m.HandleFunc("POST /login", c.public("Log in", c.login))
	m.HandleFunc("POST /logout", c.public("Log out", c.logout))
	m.HandleFunc("GET /password", c.authed("Change password", c.passwordForm))
	m.HandleFunc("POST /password", c.authed("Change password", c.changePassword))
	m.HandleFunc("GET /password-reset", c.public("Reset password", c.resetRequestForm))
	m.HandleFunc("POST /password-reset", c.public("Reset password", c.requestReset))
	m.HandleFunc("GET /password-reset/{token}", c.public("Choose a new password", c.resetConfirmForm))
	m.HandleFunc("POST /password-reset/{token}", c.public("Choose a new password", c.resetConfirm))
	if c.signUp {
		m.HandleFunc("GET /signup", c.public("Sign up", c.signUpForm))
		m.HandleFunc("POST /signup", c.public("Sign up", c.signUpSubmit))
	}
	m.HandleFunc("GET /verify-email/{token}", c.public("Confirm your email", c.verifyForm))
	m.HandleFunc("POST /verify-email/{token}", c.public("Confirm your email", c.verify))
	m.HandleFunc("GET /sign-in/{request}", c.signInRoute)
	m.HandleFunc("POST /sign-in/{request}", c.signInRoute)
	m.HandleFunc("GET /invitations/{token}", c.public("Invitation", c.invitation))
	m.HandleFunc("POST /invitations/{token}", c.public("Invitation", c.acceptInvitation))

	// One's own page.
	m.HandleFunc("GET /me", c.authed("Your account", c.me))
	m.HandleFunc("POST /me/join-requests", c.authed("Your account", c.joinRequest))
	m.HandleFunc("POST /me/profile", c.authed("Your account", c.profile))
	m.HandleFunc("POST /me/join-requests/{request}/cancel", c.authed("Your account", c.cancelOwnJoinRequest))
	m.HandleFunc("POST /me/memberships/{org}/leave", c.authed("Your account", c.leaveOrganization))

	// An organization's Users screen, with the side panel of one member.
	m.HandleFunc("GET /o/{org}/users", c.orgScreen("Users", "users", c.users))
	m.HandleFunc("POST /o/{org}/users/bulk", c.inOrg("Users", "users", c.bulk))
	m.HandleFunc("GET /o/{org}/users/{account}", c.orgScreen("Users", "users", c.member))
	m.HandleFunc("GET /o/{org}/users/new", c.inOrg("Add user", "users", c.needs(account.PermMembersInvite, c.addUserForm)))
	m.HandleFunc("POST /o/{org}/users/new", c.inOrg("Add user", "users", c.needs(account.PermMembersInvite, c.addUser)))
	m.HandleFunc("GET /o/{org}/users/export.xlsx", c.inOrg("Export", "users", c.export("xlsx")))
	m.HandleFunc("GET /o/{org}/users/export.csv", c.inOrg("Export", "users", c.export("csv")))
	m.HandleFunc("GET /o/{org}/invite", c.inOrg("Invite users", "users", c.needs(account.PermMembersInvite, c.inviteForm)))
	m.HandleFunc("POST /o/{org}/invite", c.inOrg("Invite users", "users", c.invite))
	m.HandleFunc("POST /o/{org}/users/{account}/role", c.inOrg("Users", "users", c.setRole))
	m.HandleFunc("POST /o/{org}/users/{account}/teams", c.inOrg("Users", "users", c.setTeams))
	m.HandleFunc("POST /o/{org}/users/{account}/seat-requests", c.inOrg("Users", "users", c.seatRequest))
	m.HandleFunc("POST /o/{org}/users/{account}/{action}", c.inOrg("Users", "users", c.memberAction))

	// Import and its reports.
	m.HandleFunc("GET /o/{org}/import", c.inOrg("Import users", "import", c.needs(account.PermImportsRun, c.imports)))
	m.HandleFunc("POST /o/{org}/import", c.inOrg("Import users", "import", c.upload))
	m.HandleFunc("GET /o/{org}/import/template.xlsx", c.inOrg("Import users", "import", c.importTemplate))
	m.HandleFunc("GET /o/{org}/import/{id}", c.inOrg("Import", "import", c.importProgress))
	m.HandleFunc("GET /o/{org}/import/{id}/errors.xlsx", c.inOrg("Import", "import", c.importErrors))

	// An organization's roles, teams, invitations, join requests and audit log.
	m.HandleFunc("GET /o/{org}/roles", c.inOrg("Roles", "roles", c.roles))
	m.HandleFunc("POST /o/{org}/roles", c.inOrg("Roles", "roles", c.createRole))
	m.HandleFunc("GET /o/{org}/roles/{role}", c.inOrg("Roles", "roles", c.role))
	m.HandleFunc("POST /o/{org}/roles/{role}", c.inOrg("Roles", "roles", c.updateRole))
	m.HandleFunc("POST /o/{org}/roles/{role}/delete", c.inOrg("Roles", "roles", c.deleteRole))
	m.HandleFunc("GET /o/{org}/teams", c.inOrg("Teams", "teams", c.teams))
	m.HandleFunc("POST /o/{org}/teams", c.inOrg("Teams", "teams", c.createTeam))
	m.HandleFunc("POST /o/{org}/teams/{team}", c.inOrg("Teams", "teams", c.renameTeam))
	m.HandleFunc("POST /o/{org}/teams/{team}/delete", c.inOrg("Teams", "teams", c.deleteTeam))
	m.HandleFunc("GET /o/{org}/invitations", c.inOrg("Invitations", "invitations", c.invitations))
	m.HandleFunc("POST /o/{org}/invitations/{invitation}/resend", c.inOrg("Invitations", "invitations", c.resendInvitation))
	m.HandleFunc("POST /o/{org}/invitations/{invitation}/cancel", c.inOrg("Invitations", "invitations", c.cancelInvitation))
	m.HandleFunc("GET /o/{org}/join-requests", c.inOrg("Join requests", "join-requests", c.joinRequests))
	m.HandleFunc("POST /o/{org}/join-requests/{request}/approve", c.inOrg("Join requests", "join-requests", c.approveJoinRequest))
	m.HandleFunc("POST /o/{org}/join-requests/{request}/deny", c.inOrg("Join requests", "join-requests", c.denyJoinRequest))
	m.HandleFunc("GET /o/{org}/audit", c.orgScreen("Audit log", "audit", c.audit))

	// Operations: the operator view, a partner's organizations, an organization's
	// subscriptions and settings.
	m.HandleFunc("GET /operator", c.operatorOnly("Partners & organizations", "operator", c.operatorOrgs))
	m.HandleFunc("POST /operator/organizations", c.operatorOnly("Partners & organizations", "operator", c.createOrganization))
	m.HandleFunc("GET /operator/applications", c.operatorOnly("Applications", "applications", c.applications))
	m.HandleFunc("POST /operator/applications", c.operatorOnly("Applications", "applications", c.createApplication))
	m.HandleFunc("POST /operator/applications/{app}/name", c.operatorOnly("Applications", "applications", c.renameApplication))
	m.HandleFunc("POST /operator/applications/{app}/keys", c.operatorOnly("Applications", "applications", c.createApplicationKey))
	m.HandleFunc("POST /operator/applications/{app}/oidc", c.operatorOnly("Applications", "applications", c.setOIDCClient))
	m.HandleFunc("POST /operator/applications/{app}/oidc/rotate-secret", c.operatorOnly("Applications", "applications", c.rotateOIDCSecret))
	m.HandleFunc("POST /operator/applications/{app}/keys/{key}/revoke", c.operatorOnly("Applications", "applications", c.revokeApplicationKey))
	hooks := "/operator/applications/{app}/webhooks"
	m.HandleFunc("GET "+hooks, c.operatorOnly("Webhooks", "applications", c.webhooks))
	m.HandleFunc("POST "+hooks, c.operatorOnly("Webhooks", "applications", c.createWebhook))
	m.HandleFunc("GET "+hooks+"/{id}", c.operatorOnly("Webhook", "applications", c.webhook))
	m.HandleFunc("POST "+hooks+"/{id}", c.operatorOnly("Webhook", "applications", c.updateWebhook))
	m.HandleFunc("POST "+hooks+"/{id}/rotate-secret", c.operatorOnly("Webhook", "applications", c.rotateWebhookSecret))
	m.HandleFunc("POST "+hooks+"/{id}/{action}", c.operatorOnly("Webhook", "applications", c.webhookAction))
	m.HandleFunc("GET "+hooks+"/{id}/deliveries", c.operatorOnly("Deliveries", "applications", c.deliveries))
	m.HandleFunc("POST "+hooks+"/{id}/deliveries/{delivery}/retry", c.operatorOnly("Deliveries", "applications", c.retryDelivery))
	m.HandleFunc("GET /operator/seat-requests", c.operatorOnly("Seat requests", "seat-requests", c.seatRequests))
	m.HandleFunc("POST /operator/seat-requests/{id}/{action}", c.operatorOnly("Seat requests", "seat-requests", c.decideSeatRequest))
	m.HandleFunc("GET /operator/outbox", c.operatorOnly("Outbox", "outbox", c.outbox))
	m.HandleFunc("POST /operator/outbox/{id}/retry", c.operatorOnly("Outbox", "outbox", c.retryEmail))
	m.HandleFunc("GET /o/{org}/organizations", c.inOrg("Organizations", "organizations", c.partnerOrgs))
	m.HandleFunc("POST /o/{org}/organizations", c.inOrg("Organizations", "organizations", c.createPartnerOrg))
	m.HandleFunc("GET /o/{org}/subscriptions", c.inOrg("Subscriptions", "subscriptions", c.subscriptions))
	m.HandleFunc("POST /o/{org}/subscriptions", c.inOrg("Subscriptions", "subscriptions", c.createSubscription))
	m.HandleFunc("POST /o/{org}/subscriptions/{sub}/{action}", c.inOrg("Subscriptions", "subscriptions", c.subscriptionAction))
	m.HandleFunc("GET /o/{org}/settings", c.inOrg("Settings", "settings", c.settings))
	m.HandleFunc("POST /o/{org}/settings", c.inOrg("Settings", "settings", c.saveSettings))
	m.HandleFunc("POST /o/{org}/settings/scim-tokens", c.inOrg("Settings", "settings", c.createSCIMToken))
	m.HandleFunc("POST /o/{org}/settings/scim-tokens/{token}/revoke", c.inOrg("Settings", "settings", c.revokeSCIMToken))
	m.HandleFunc("GET /o/{org}/settings/domains", c.inOrg("Domains", "domains", c.needs(account.PermMembersManage, c.domains)))
	m.HandleFunc("POST /o/{org}/settings/domains", c.inOrg("Domains", "domains", c.needs(account.PermMembersManage, c.addDomain)))
	m.HandleFunc("POST /o/{org}/settings/domains/{domain}/verify", c.inOrg("Domains", "domains", c.needs(account.PermMembersManage, c.verifyDomain)))
	m.HandleFunc("POST /o/{org}/settings/domains/{domain}/remove", c.inOrg("Domains", "domains", c.needs(account.PermMembersManage, c.removeDomain)))
	m.HandleFunc("POST /o/{org}/delete", c.inOrg("Settings", "settings", c.deleteOrganization))
}

var _ http.Handler = (*Console)(nil)
