package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// maxBody caps every JSON request body. The largest legitimate body (a bulk removal
// of 500 account ids) is about 16 KiB.
const maxBody = 64 << 10

// routes is the whole API surface. Each route says who may call it: public, a
// session (refused while the password must be reset), or a session even then.
func (s *Server) routes() {
	api := s.api
	// Auth and self.
	huma.Register(api, op("login", http.MethodPost, "/api/v1/auth/login", "Log in", "Auth", public), s.login)
	huma.Register(api, op("logout", http.MethodPost, "/api/v1/auth/logout", "Log out (revoke this session)", "Auth", sessionReset, http.StatusNoContent), s.logout)
	huma.Register(api, op("get-me", http.MethodGet, "/api/v1/me", "The caller's account and memberships", "Auth", sessionReset), s.me)
	huma.Register(api, op("update-me", http.MethodPatch, "/api/v1/me", "Change the caller's own names, phone or username", "Auth", session), s.updateMe)
	huma.Register(api, op("change-password", http.MethodPut, "/api/v1/me/password", "Change the caller's password", "Auth", sessionReset, http.StatusNoContent), s.changePassword)
	huma.Register(api, op("list-own-join-requests", http.MethodGet, "/api/v1/me/join-requests", "The caller's own join requests, in every organization", "Join requests", session), s.listOwnJoinRequests)
	huma.Register(api, op("cancel-own-join-request", http.MethodPost, "/api/v1/me/join-requests/{id}/cancel", "Withdraw one of the caller's own pending join requests", "Join requests", session), s.cancelOwnJoinRequest)
	huma.Register(api, op("leave-organization", http.MethodDelete, "/api/v1/me/memberships/{org}", "Leave an organization: the caller's own membership ends, as a removal", "Members", session, http.StatusNoContent), s.leaveOrganization)
	huma.Register(api, op("complete-setup", http.MethodPost, "/api/v1/setup", "Create the first operator with a one-time setup token", "Auth", public, http.StatusCreated), s.completeSetup)
	huma.Register(api, op("sign-up", http.MethodPost, "/api/v1/auth/signup", "Sign up: emails a verification link", "Auth", public, http.StatusAccepted), s.signUp)
	huma.Register(api, op("verify-email", http.MethodPost, "/api/v1/auth/verify-email", "Follow a sign-up's verification link with the password chosen there: the account becomes active", "Auth", public), s.verifyEmail)
	huma.Register(api, op("request-password-reset", http.MethodPost, "/api/v1/auth/password-reset", "Email a password-reset link (202 whether or not the email is known)", "Auth", public, http.StatusAccepted), s.requestPasswordReset)
	huma.Register(api, op("confirm-password-reset", http.MethodPost, "/api/v1/auth/password-reset/confirm", "Set a new password with a reset link's token; every session is revoked", "Auth", public, http.StatusNoContent), s.confirmPasswordReset)
	huma.Register(api, op("preview-invitation", http.MethodGet, "/api/v1/invitations/{token}", "What an invitation link offers", "Invitations", public), s.previewInvitation)
	huma.Register(api, op("accept-invitation", http.MethodPost, "/api/v1/invitations/{token}/accept", "Accept an invitation: with names and a password, or with the invited account's session", "Invitations", optionalSession), s.acceptInvitation)
	huma.Register(api, op("list-permissions", http.MethodGet, "/api/v1/permissions", "The permission catalogue and the predefined roles", "Roles", session), s.listPermissions)

	// Platform.
	huma.Register(api, op("create-organization", http.MethodPost, "/api/v1/organizations", "Create a partner or an organization", "Organizations", session, http.StatusCreated), s.createOrganization)
	huma.Register(api, op("list-organizations", http.MethodGet, "/api/v1/organizations", "List the organizations the caller may see", "Organizations", session), s.listOrganizations)
	huma.Register(api, op("get-organization", http.MethodGet, "/api/v1/organizations/{org}", "Get an organization", "Organizations", session), s.getOrganization)
	huma.Register(api, op("update-organization", http.MethodPatch, "/api/v1/organizations/{org}", "Change an organization's name, slug or settings", "Organizations", session), s.updateOrganization)
	huma.Register(api, op("delete-organization", http.MethodDelete, "/api/v1/organizations/{org}", "Delete an organization", "Organizations", session, http.StatusNoContent), s.deleteOrganization)
	huma.Register(api, op("delete-account", http.MethodDelete, "/api/v1/accounts/{account}", "Delete an account permanently (operator)", "Accounts", session, http.StatusNoContent), s.deleteAccount)
	huma.Register(api, op("disable-account", http.MethodPost, "/api/v1/accounts/{account}/disable", "Disable an account (operator)", "Accounts", session), s.disableAccount)
	huma.Register(api, op("enable-account", http.MethodPost, "/api/v1/accounts/{account}/enable", "Enable a disabled account again (operator)", "Accounts", session), s.enableAccount)
	huma.Register(api, op("create-application", http.MethodPost, "/api/v1/applications", "Define an application (operator)", "Applications", session, http.StatusCreated), s.createApplication)
	huma.Register(api, op("list-applications", http.MethodGet, "/api/v1/applications", "List the applications", "Applications", session), s.listApplications)
	huma.Register(api, op("get-application", http.MethodGet, "/api/v1/applications/{app}", "Get an application", "Applications", session), s.getApplication)
	huma.Register(api, op("rename-application", http.MethodPatch, "/api/v1/applications/{app}", "Rename an application (operator)", "Applications", session), s.renameApplication)
	huma.Register(api, op("create-application-key", http.MethodPost, "/api/v1/applications/{app}/keys", "Issue an API key (operator; shown once)", "Applications", session, http.StatusCreated), s.createApplicationKey)
	huma.Register(api, op("list-application-keys", http.MethodGet, "/api/v1/applications/{app}/keys", "List an application's API keys (operator)", "Applications", session), s.listApplicationKeys)
	huma.Register(api, op("revoke-application-key", http.MethodDelete, "/api/v1/applications/{app}/keys/{id}", "Revoke an API key (operator)", "Applications", session, http.StatusNoContent), s.revokeApplicationKey)
	huma.Register(api, op("list-seat-requests", http.MethodGet, "/api/v1/seat-requests", "Every organization's seat requests (operator)", "Subscriptions", session), s.listSeatRequests)
	huma.Register(api, op("approve-seat-request", http.MethodPost, "/api/v1/seat-requests/{id}/approve", "Approve, raising the quota (operator)", "Subscriptions", session), s.approveSeatRequest)
	huma.Register(api, op("deny-seat-request", http.MethodPost, "/api/v1/seat-requests/{id}/deny", "Deny (operator)", "Subscriptions", session), s.denySeatRequest)
	huma.Register(api, op("list-platform-audit", http.MethodGet, "/api/v1/audit", "The platform's audit events outside organizations (operator)", "Audit", session), s.listPlatformAudit)

	// Organization.
	huma.Register(api, op("get-summary", http.MethodGet, "/api/v1/organizations/{org}/summary", "Member and seat counts", "Members", session), s.getSummary)
	huma.Register(api, op("list-members", http.MethodGet, "/api/v1/organizations/{org}/members", "List and search members", "Members", session), s.listMembers)
	huma.Register(api, op("add-member", http.MethodPost, "/api/v1/organizations/{org}/members", "Add one person", "Members", session, http.StatusCreated), s.addMember)
	huma.Register(api, op("get-member", http.MethodGet, "/api/v1/organizations/{org}/members/{account}", "Get a member", "Members", session), s.getMember)
	huma.Register(api, op("update-member", http.MethodPatch, "/api/v1/organizations/{org}/members/{account}", "Change a member's role, teams or details", "Members", session), s.updateMember)
	huma.Register(api, op("deactivate-member", http.MethodPost, "/api/v1/organizations/{org}/members/{account}/deactivate", "Deactivate a member", "Members", session), s.deactivateMember)
	huma.Register(api, op("reactivate-member", http.MethodPost, "/api/v1/organizations/{org}/members/{account}/reactivate", "Reactivate a member", "Members", session), s.reactivateMember)
	huma.Register(api, op("remove-member", http.MethodDelete, "/api/v1/organizations/{org}/members/{account}", "Remove a member from the organization", "Members", session, http.StatusNoContent), s.removeMember)
	huma.Register(api, op("remove-members", http.MethodPost, "/api/v1/organizations/{org}/members/remove", "Remove several members", "Members", session), s.removeMembers)

	huma.Register(api, op("invite", http.MethodPost, "/api/v1/organizations/{org}/invitations", "Invite several people with one role, teams and applications", "Invitations", session), s.invite)
	huma.Register(api, op("list-invitations", http.MethodGet, "/api/v1/organizations/{org}/invitations", "List invitations, newest first", "Invitations", session), s.listInvitations)
	huma.Register(api, op("resend-invitations", http.MethodPost, "/api/v1/organizations/{org}/invitations/resend", "Resend several pending or expired invitations", "Invitations", session), s.resendInvitations)
	huma.Register(api, op("get-invitation", http.MethodGet, "/api/v1/organizations/{org}/invitations/{id}", "Get an invitation", "Invitations", session), s.getInvitation)
	huma.Register(api, op("resend-invitation", http.MethodPost, "/api/v1/organizations/{org}/invitations/{id}/resend", "Resend a pending or expired invitation with a new link", "Invitations", session), s.resendInvitation)
	huma.Register(api, op("cancel-invitation", http.MethodDelete, "/api/v1/organizations/{org}/invitations/{id}", "Cancel an invitation; the invited membership and its seats go", "Invitations", session, http.StatusNoContent), s.cancelInvitation)
	huma.Register(api, op("list-join-requests", http.MethodGet, "/api/v1/organizations/{org}/join-requests", "List requests to join, newest first", "Join requests", session), s.listJoinRequests)
	huma.Register(api, op("create-join-request", http.MethodPost, "/api/v1/organizations/{org}/join-requests", "Ask, as the calling account, to join the organization", "Join requests", session, http.StatusCreated), s.createJoinRequest)
	huma.Register(api, op("approve-join-request", http.MethodPost, "/api/v1/organizations/{org}/join-requests/{id}/approve", "Approve: the requester is invited", "Join requests", session), s.approveJoinRequest)
	huma.Register(api, op("deny-join-request", http.MethodPost, "/api/v1/organizations/{org}/join-requests/{id}/deny", "Deny: nothing else changes", "Join requests", session), s.denyJoinRequest)

	huma.Register(api, op("list-domains", http.MethodGet, "/api/v1/organizations/{org}/domains", "List the organization's email domains", "Domains", session), s.listDomains)
	huma.Register(api, op("add-domain", http.MethodPost, "/api/v1/organizations/{org}/domains", "Add an email domain: pending until its DNS TXT record is seen", "Domains", session, http.StatusCreated), s.addDomain)
	huma.Register(api, op("get-domain", http.MethodGet, "/api/v1/organizations/{org}/domains/{id}", "Get one of the organization's domains", "Domains", session), s.getDomain)
	huma.Register(api, op("remove-domain", http.MethodDelete, "/api/v1/organizations/{org}/domains/{id}", "Remove an email domain", "Domains", session, http.StatusNoContent), s.removeDomain)
	huma.Register(api, op("verify-domain", http.MethodPost, "/api/v1/organizations/{org}/domains/{id}/verify", "Check the domain's TXT record now (200 with the domain as it is; a failed check says why in last_check)", "Domains", session), s.verifyDomain)

	huma.Register(api, op("import-template", http.MethodGet, "/api/v1/organizations/{org}/imports/template.xlsx", "The import template, with the caller's choices as drop-downs", "Imports", session), s.importTemplate)
	upload := op("upload-import", http.MethodPost, "/api/v1/organizations/{org}/imports", "Upload an .xlsx or .csv file of people; it is applied in the background", "Imports", session, http.StatusAccepted)
	upload.MaxBodyBytes, upload.BodyReadTimeout = 0, 2*time.Minute // limitUpload bounds the size
	upload.Errors = append(upload.Errors, http.StatusRequestEntityTooLarge)
	// A body that is not a multipart form is 415, as a body that is not JSON is to the
	// other operations; it is decided after authentication (huma runs an operation's
	// middlewares after the API's).
	upload.Middlewares = huma.Middlewares{func(hctx huma.Context, next func(huma.Context)) {
		if !isMultipart(hctx.Header("Content-Type")) {
			s.writeHuma(hctx, newProblem(hctx.Context(), http.StatusUnsupportedMediaType, slugUnsupportedMediaType,
				"an import is uploaded as multipart/form-data with the file in the field file"))
			return
		}
		next(hctx)
	}}
	huma.Register(api, upload, s.uploadImport)
	huma.Register(api, op("list-imports", http.MethodGet, "/api/v1/organizations/{org}/imports", "The organization's imports, newest first", "Imports", session), s.listImports)
	huma.Register(api, op("get-import", http.MethodGet, "/api/v1/organizations/{org}/imports/{id}", "An import's state, progress and rejected rows", "Imports", session), s.getImport)
	huma.Register(api, op("import-errors", http.MethodGet, "/api/v1/organizations/{org}/imports/{id}/errors.xlsx", "An import's rejected rows as a workbook to fix and upload again", "Imports", session), s.importErrors)
	huma.Register(api, op("export-members-xlsx", http.MethodGet, "/api/v1/organizations/{org}/members/export.xlsx", "The member list (with its filters) as a workbook", "Members", session), s.exportXLSX)
	huma.Register(api, op("export-members-csv", http.MethodGet, "/api/v1/organizations/{org}/members/export.csv", "The member list (with its filters) as CSV", "Members", session), s.exportCSV)

	huma.Register(api, op("create-subscription", http.MethodPost, "/api/v1/organizations/{org}/subscriptions", "Give the organization a seat quota (operator or partner)", "Subscriptions", session, http.StatusCreated), s.createSubscription)
	huma.Register(api, op("list-subscriptions", http.MethodGet, "/api/v1/organizations/{org}/subscriptions", "List subscriptions with their seat counts", "Subscriptions", session), s.listSubscriptions)
	huma.Register(api, op("get-subscription", http.MethodGet, "/api/v1/organizations/{org}/subscriptions/{sub}", "Get a subscription", "Subscriptions", session), s.getSubscription)
	huma.Register(api, op("update-subscription", http.MethodPatch, "/api/v1/organizations/{org}/subscriptions/{sub}", "Change a quota or end date (operator or partner)", "Subscriptions", session), s.updateSubscription)
	huma.Register(api, op("renew-subscription", http.MethodPost, "/api/v1/organizations/{org}/subscriptions/{sub}/renew", "Renew, copying the seats (operator or partner)", "Subscriptions", session, http.StatusCreated), s.renewSubscription)
	huma.Register(api, op("assign-seat", http.MethodPut, "/api/v1/organizations/{org}/subscriptions/{sub}/seats/{account}", "Give a member a seat", "Subscriptions", session), s.assignSeat)
	huma.Register(api, op("unassign-seat", http.MethodDelete, "/api/v1/organizations/{org}/subscriptions/{sub}/seats/{account}", "Take a member's seat back", "Subscriptions", session, http.StatusNoContent), s.unassignSeat)
	huma.Register(api, op("update-seats", http.MethodPost, "/api/v1/organizations/{org}/subscriptions/{sub}/seats", "Assign and unassign several seats, all or nothing", "Subscriptions", session), s.updateSeats)
	huma.Register(api, op("create-seat-request", http.MethodPost, "/api/v1/organizations/{org}/seat-requests", "Ask for more seats", "Subscriptions", session, http.StatusCreated), s.createSeatRequest)
	huma.Register(api, op("list-org-seat-requests", http.MethodGet, "/api/v1/organizations/{org}/seat-requests", "The organization's seat requests", "Subscriptions", session), s.listOrgSeatRequests)

	huma.Register(api, op("list-roles", http.MethodGet, "/api/v1/organizations/{org}/roles", "List predefined and custom roles", "Roles", session), s.listRoles)
	huma.Register(api, op("create-role", http.MethodPost, "/api/v1/organizations/{org}/roles", "Create a custom role", "Roles", session, http.StatusCreated), s.createRole)
	huma.Register(api, op("get-role", http.MethodGet, "/api/v1/organizations/{org}/roles/{role}", "Get a role", "Roles", session), s.getRole)
	huma.Register(api, op("update-role", http.MethodPatch, "/api/v1/organizations/{org}/roles/{role}", "Change a custom role", "Roles", session), s.updateRole)
	huma.Register(api, op("delete-role", http.MethodDelete, "/api/v1/organizations/{org}/roles/{role}", "Delete a custom role no one holds", "Roles", session, http.StatusNoContent), s.deleteRole)

	huma.Register(api, op("list-teams", http.MethodGet, "/api/v1/organizations/{org}/teams", "List teams", "Teams", session), s.listTeams)
	huma.Register(api, op("create-team", http.MethodPost, "/api/v1/organizations/{org}/teams", "Create a team", "Teams", session, http.StatusCreated), s.createTeam)
	huma.Register(api, op("get-team", http.MethodGet, "/api/v1/organizations/{org}/teams/{team}", "Get a team", "Teams", session), s.getTeam)
	huma.Register(api, op("rename-team", http.MethodPatch, "/api/v1/organizations/{org}/teams/{team}", "Rename a team", "Teams", session), s.renameTeam)
	huma.Register(api, op("delete-team", http.MethodDelete, "/api/v1/organizations/{org}/teams/{team}", "Delete a team", "Teams", session, http.StatusNoContent), s.deleteTeam)

	// Applications, with their API keys.
	huma.Register(api, op("check", http.MethodGet, "/api/v1/check", "May this account use this application in this organization now?", "Entitlements", application), s.check)
	huma.Register(api, op("check-batch", http.MethodPost, "/api/v1/check", "Up to 100 checks at once", "Entitlements", application), s.checkBatch)
	huma.Register(api, op("list-entitlements", http.MethodGet, "/api/v1/accounts/{account}/entitlements", "Where the account may use the calling application now", "Entitlements", application), s.listEntitlements)

	huma.Register(api, op("create-webhook", http.MethodPost, "/api/v1/applications/{app}/webhooks", "Add a webhook endpoint (operator; its secret is shown once)", "Events", session, http.StatusCreated), s.createWebhook)
	huma.Register(api, op("list-webhooks", http.MethodGet, "/api/v1/applications/{app}/webhooks", "List an application's webhook endpoints (operator)", "Events", session), s.listWebhooks)
	huma.Register(api, op("get-webhook", http.MethodGet, "/api/v1/applications/{app}/webhooks/{id}", "Get a webhook endpoint (operator)", "Events", session), s.getWebhook)
	huma.Register(api, op("update-webhook", http.MethodPatch, "/api/v1/applications/{app}/webhooks/{id}", "Change a webhook endpoint (operator)", "Events", session), s.updateWebhook)
	huma.Register(api, op("delete-webhook", http.MethodDelete, "/api/v1/applications/{app}/webhooks/{id}", "Delete a webhook endpoint (operator)", "Events", session, http.StatusNoContent), s.deleteWebhook)
	huma.Register(api, op("rotate-webhook-secret", http.MethodPost, "/api/v1/applications/{app}/webhooks/{id}/rotate-secret", "Give an endpoint a new secret; the old one signs too for 24 hours (operator)", "Events", session), s.rotateWebhookSecret)
	huma.Register(api, op("test-webhook", http.MethodPost, "/api/v1/applications/{app}/webhooks/{id}/test", "Send a webhook.test event to this endpoint (operator)", "Events", session, http.StatusAccepted), s.testWebhook)
	huma.Register(api, op("list-webhook-deliveries", http.MethodGet, "/api/v1/applications/{app}/webhooks/{id}/deliveries", "An endpoint's deliveries, newest first (operator)", "Events", session), s.listDeliveries)
	huma.Register(api, op("retry-webhook-delivery", http.MethodPost, "/api/v1/applications/{app}/webhooks/{id}/deliveries/{delivery}/retry", "Deliver again now (operator)", "Events", session, http.StatusAccepted), s.retryDelivery)
	huma.Register(api, op("put-oidc-client", http.MethodPut, "/api/v1/applications/{app}/oidc", "Register or change the application's sign-in client (operator; a new secret is shown once)", "Sign in with Roster", session), s.putOIDCClient)
	huma.Register(api, op("get-oidc-client", http.MethodGet, "/api/v1/applications/{app}/oidc", "The application's sign-in client, without its secret (operator)", "Sign in with Roster", session), s.getOIDCClient)
	huma.Register(api, op("rotate-oidc-secret", http.MethodPost, "/api/v1/applications/{app}/oidc/rotate-secret", "Give the sign-in client a new secret, shown once; the old one stops working (operator)", "Sign in with Roster", session), s.rotateOIDCSecret)
	huma.Register(api, op("list-events", http.MethodGet, "/api/v1/applications/{app}/events", "The application's change events, in commit order", "Events", applicationOrSession), s.listEvents)

	huma.Register(api, op("list-scim-tokens", http.MethodGet, "/api/v1/organizations/{org}/scim-tokens", "List the organization's SCIM tokens", "SCIM", session), s.listSCIMTokens)
	huma.Register(api, op("create-scim-token", http.MethodPost, "/api/v1/organizations/{org}/scim-tokens", "Issue a SCIM token for an identity provider (shown once)", "SCIM", session, http.StatusCreated), s.createSCIMToken)
	huma.Register(api, op("revoke-scim-token", http.MethodDelete, "/api/v1/organizations/{org}/scim-tokens/{id}", "Revoke a SCIM token", "SCIM", session, http.StatusNoContent), s.revokeSCIMToken)

	huma.Register(api, op("list-audit", http.MethodGet, "/api/v1/organizations/{org}/audit", "The organization's audit events, newest first", "Audit", session), s.listAudit)
}

// callers says, in each operation's description, what credentials it takes.
var callers = map[authMode]string{
	public:               "Public: no credentials.",
	session:              "Needs a session (`Authorization: Bearer <token>` from POST /api/v1/auth/login); while its account must reset its password, 403 `password-reset-required`.",
	applicationOrSession: "Needs the application's own API key (`Authorization: Bearer <key>`) or an operator's session; another application's key answers 404.",
	sessionReset:         "Needs a session (`Authorization: Bearer <token>` from POST /api/v1/auth/login), also one whose account must reset its password.",
	application:          "Needs the calling application's API key (`Authorization: Bearer <key>`).",
	optionalSession:      "Without credentials, or with a session (`Authorization: Bearer <token>`) of the invited account.",
}

// op describes one operation. status is its success status (200 when omitted).
func op(id, method, path, summary, tag string, mode authMode, status ...int) huma.Operation {
	o := huma.Operation{
		OperationID:  id,
		Method:       method,
		Path:         path,
		Summary:      summary,
		Tags:         []string{tag},
		MaxBodyBytes: maxBody,
		// The edge has read the body already, under a deadline it lifts once read
		// (wellFormed); -1 keeps huma from setting one that would outlive the read.
		BodyReadTimeout: -1,
		Metadata:        map[string]any{"auth": mode},
		Errors:          []int{http.StatusBadRequest, http.StatusUnprocessableEntity},
	}
	if len(status) > 0 {
		o.DefaultStatus = status[0]
	}
	if method == http.MethodPost {
		o.Parameters = append(o.Parameters, &huma.Param{Ref: "#/components/parameters/IdempotencyKey"})
	}
	o.Description = descriptions[id]
	if who := callers[mode]; who != "" {
		o.Description += "\n\n" + who
	}
	switch mode {
	case public:
		o.Security = []map[string][]string{} // none: "security: []", not the document's default
	case application:
		o.Security = []map[string][]string{{"applicationKey": {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden)
	case applicationOrSession:
		o.Security = []map[string][]string{{"applicationKey": {}}, {"bearer": {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound)
	case session, sessionReset:
		o.Security = []map[string][]string{{"bearer": {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound)
	case optionalSession:
		o.Security = []map[string][]string{{}, {"bearer": {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone)
	}
	if mode == public && strings.Contains(path, "{token}") {
		o.Errors = append(o.Errors, http.StatusNotFound, http.StatusGone)
	}
	switch id {
	case "sign-up", "request-password-reset", "invite", "add-member", "resend-invitation", "resend-invitations", "create-join-request", "approve-join-request":
		o.Errors = append(o.Errors, http.StatusTooManyRequests)
	case "verify-email", "confirm-password-reset":
		o.Errors = append(o.Errors, http.StatusGone)
	}
	if method != http.MethodGet {
		o.Errors = append(o.Errors, http.StatusConflict)
	}
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		o.Errors = append(o.Errors, http.StatusUnsupportedMediaType) // a body that is not JSON (an upload's: not multipart)
	}
	if id == "login" {
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusTooManyRequests)
	}
	return o
}
