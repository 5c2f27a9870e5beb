package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// The authorization matrix: every operation of the OpenAPI document, called as every
// kind of caller, against a declared expectation. An operation without an entry in
// matrixRoutes (or notInMatrix) fails TestAuthorizationMatrix.

// outcome is what a caller should get from a route.
type outcome int

const (
	allowed         outcome = iota // 2xx
	unauthenticated                // 401 unauthenticated: no or the wrong kind of credential
	forbidden                      // 403 forbidden: inside the tenant, without the right
	hidden                         // 404 not-found: another tenant's object, never revealed
	invalid                        // 422 validation: allowed to act, with a body the rules refuse
)

func (o outcome) String() string {
	return [...]string{"2xx", "401 unauthenticated", "403 forbidden", "404 not-found", "422 validation"}[o]
}

// whoKind is how a caller relates to acme, the organization the routes act on.
type whoKind int

const (
	anonymous whoKind = iota // no Authorization header
	appKey                   // an application's API key
	operator                 // the platform operator
	inAcme                   // an active member of acme with a role (predefined or custom)
	inNorth                  // a member of north, acme's partner: its north role's permissions in acme
	outsider                 // an admin elsewhere: another organization, another partner
)

// who is one caller of the matrix.
type who struct {
	name  string
	kind  whoKind
	token string
	email string
	role  string                // the role id in acme (inAcme)
	perms account.PermissionSet // in acme (inAcme, inNorth)
	perm  account.Permission    // the one permission of a custom role
}

// rule says what a caller should get.
type rule func(p *who) outcome

var (
	// public routes take no credentials: every caller is served (a credential sent
	// along is ignored).
	public rule = func(*who) outcome { return allowed }
	// anySession routes serve every logged-in account.
	anySession rule = func(p *who) outcome {
		if p.kind == anonymous || p.kind == appKey {
			return unauthenticated
		}
		return allowed
	}
	// operatorOnly routes are the platform's.
	operatorOnly rule = func(p *who) outcome {
		switch p.kind {
		case anonymous, appKey:
			return unauthenticated
		case operator:
			return allowed
		}
		return forbidden
	}
	// applicationKey routes serve an application's API key only.
	applicationKey rule = func(p *who) outcome {
		if p.kind == appKey {
			return allowed
		}
		return unauthenticated
	}
	// orgVisible routes serve whoever has an active part in acme or its partner.
	orgVisible = orgRule(func(*who) bool { return true })
	// partnerManager routes (quotas, deleting an organization) serve the operator and
	// the partner's managers (organization.manage in north); acme's own admins, even
	// its owner, are refused.
	partnerManager = orgRule(northManager)
)

func northManager(p *who) bool {
	return p.kind == inNorth && p.perms.Has(account.PermOrganizationManage)
}

// underNorth: creating an organization under north, which only the operator and
// north's members see, and its managers may do.
var underNorth rule = func(p *who) outcome {
	switch {
	case p.kind == anonymous || p.kind == appKey:
		return unauthenticated
	case p.kind == operator || northManager(p):
		return allowed
	case p.kind == inNorth:
		return forbidden
	}
	return hidden
}

// perm: acme's routes that need permissions (every one of them).
func perm(ps ...account.Permission) rule {
	return orgRule(func(w *who) bool {
		for _, p := range ps {
			if !w.perms.Has(p) {
				return false
			}
		}
		return true
	})
}

// orgRule is a route of acme: outsiders get 404, the operator is served, and acme's
// members and its partner's members are served when ok says so.
func orgRule(ok func(p *who) bool) rule {
	return func(p *who) outcome {
		switch p.kind {
		case anonymous, appKey:
			return unauthenticated
		case operator:
			return allowed
		case outsider:
			return hidden
		}
		if ok(p) {
			return allowed
		}
		return forbidden
	}
}

// call is what one request of the matrix sends, beyond the world's defaults.
type call struct {
	params map[string]string // path parameters, e.g. "account" → id
	body   any
	token  string // replaces the caller's token (a throwaway session)
	query  string
}

// route is the expectation for one operation, with what calling it takes.
type route struct {
	rule  rule
	body  any    // a valid body, when it takes one and needs no fresh object
	query string // a valid query string
	// fresh, when set, makes fresh objects for each call (a route that deletes or
	// changes state once) and returns what to send.
	fresh func(w *world, p *who) call
	// hiddenStatus replaces 404 for outsiders where the reference is a body field
	// (answered as a validation error on that field, as for an unknown object).
	hiddenStatus int
	// last routes run after all others (changing a password changes the world).
	last bool
}

// notInMatrix are the operations the matrix leaves out, and why.
var notInMatrix = map[string]string{
	"complete-setup": "works only on a store without an operator (TestSetup)",
}

// outsideOpenAPI are the routes served beside the API's operations, on the mux and
// not behind huma's authentication: public by construction, answering without
// credentials (TestSecurityHeaders calls each, anonymously, with a path of its own).
var outsideOpenAPI = []struct {
	method, path string
	status       int // 0: whatever the route answers, but never 401
}{
	{"GET", "/healthz", 200},
	{"GET", "/setup/not-a-token", 0},
	{"POST", "/setup/not-a-token", 0},
	{"GET", "/api/v1/openapi.json", 200},
	{"GET", "/api/v1/openapi.yaml", 200},
}

// matrixRoutes is the expectation table: every operation of the OpenAPI document.
var matrixRoutes = map[string]route{
	// Auth and self.
	"login":     {rule: public, body: map[string]any{"email": operatorEmail, "password": pw}},
	"logout":    {rule: anySession, fresh: func(w *world, p *who) call { return call{token: w.relogin(p)} }},
	"get-me":    {rule: anySession},
	"update-me": {rule: anySession, body: map[string]any{"phone": "+14155550100"}},
	"change-password": {rule: anySession, last: true,
		body: map[string]any{"current_password": pw, "new_password": "a brand new secret"}},
	"sign-up": {rule: public, fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"email": w.fresh("signup") + "@else.test", "first_name": "S", "last_name": "U", "password": pw}}
	}},
	"verify-email": {rule: public, fresh: func(w *world, _ *who) call {
		email := w.fresh("verify") + "@else.test"
		w.e.must(202, "", "POST", "/api/v1/auth/signup", map[string]any{"email": email, "first_name": "V", "last_name": "E", "password": pw})
		return call{body: map[string]any{"token": w.e.link(account.NoticeVerifyEmail, email), "password": pw}}
	}},
	"request-password-reset": {rule: public, body: map[string]any{"email": "target@acme.test"}},
	"confirm-password-reset": {rule: public, fresh: func(w *world, _ *who) call {
		email := w.freshAccount()
		w.e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": email})
		return call{body: map[string]any{"token": w.e.link(account.NoticePasswordReset, email), "new_password": "a brand new secret"}}
	}},
	"preview-invitation": {rule: public},
	// Accepting as a new account needs no session; a session of another account is
	// refused; an API key is not a session.
	"accept-invitation": {rule: func(p *who) outcome {
		switch p.kind {
		case anonymous:
			return allowed
		case appKey:
			return unauthenticated
		}
		return forbidden
	}, fresh: func(w *world, _ *who) call {
		_, token := w.invitation()
		return call{params: map[string]string{"token": token}, body: map[string]any{"first_name": "A", "last_name": "C", "password": pw}}
	}},
	"list-permissions": {rule: anySession},
	// One's own join requests and memberships: every account, each its own. The
	// caller asks to join a fresh organization, then cancels; the caller is made a
	// member of a fresh organization, then leaves (the attacks on another account's
	// request or on an organization one is not in: TestOwnJoinRequests,
	// TestLeaveOrganization, TestMeJoinRequestsAndLeave).
	"list-own-join-requests": {rule: anySession},
	"cancel-own-join-request": {rule: anySession, fresh: func(w *world, p *who) call {
		slug := w.fresh("asked")
		w.e.org(slug, "")
		token := p.token
		if p.email == "" { // no account of its own: refused before the request is looked at
			token = w.e.login(w.freshAccount(), pw)
		}
		jr := w.e.must(201, token, "POST", "/api/v1/organizations/"+slug+"/join-requests", map[string]any{"message": "hi"})
		return call{params: map[string]string{"id": jr["id"].(string)}}
	}},
	"leave-organization": {rule: anySession, fresh: func(w *world, p *who) call {
		slug := w.fresh("left")
		w.e.org(slug, "")
		if p.email != "" {
			w.e.must(201, w.e.op, "POST", "/api/v1/organizations/"+slug+"/members",
				map[string]any{"email": p.email, "role": "member", "send_invite": false})
		}
		return call{params: map[string]string{"org": slug}}
	}},

	// Platform. An organization under north: the operator and north's managers;
	// nobody else sees north, and parent is a body field: 422 as for no such partner.
	"create-organization": {rule: underNorth, hiddenStatus: 422, fresh: func(w *world, p *who) call {
		return call{body: map[string]any{"name": "New", "slug": w.fresh("org"), "kind": "organization", "parent": "north"}}
	}},
	"list-organizations":  {rule: anySession},
	"get-organization":    {rule: orgVisible},
	"update-organization": {rule: perm(account.PermOrganizationManage), body: map[string]any{"name": "Acme"}},
	// A fresh organization under north, with the caller in it as in acme.
	"delete-organization": {rule: partnerManager, fresh: func(w *world, p *who) call {
		slug := w.fresh("doomed")
		w.e.org(slug, "north")
		w.enrol(slug, p)
		return call{params: map[string]string{"org": slug}}
	}},
	"delete-account": {rule: operatorOnly, fresh: func(w *world, _ *who) call {
		return call{params: map[string]string{"account": w.accountIDOf(w.freshAccount())}}
	}},
	"disable-account": {rule: operatorOnly, fresh: func(w *world, _ *who) call {
		return call{params: map[string]string{"account": w.accountIDOf(w.freshAccount())}}
	}},
	"enable-account": {rule: operatorOnly, fresh: func(w *world, _ *who) call {
		id := w.accountIDOf(w.freshAccount())
		w.e.must(200, w.e.op, "POST", "/api/v1/accounts/"+id+"/disable", nil)
		return call{params: map[string]string{"account": id}}
	}},
	"create-application": {rule: operatorOnly, fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"key": w.fresh("app"), "name": "App"}}
	}},
	"list-applications":      {rule: anySession},
	"get-application":        {rule: anySession},
	"rename-application":     {rule: operatorOnly, body: map[string]any{"name": "Studio"}},
	"create-application-key": {rule: operatorOnly, body: map[string]any{"name": "another"}},
	"list-application-keys":  {rule: operatorOnly},
	"revoke-application-key": {rule: operatorOnly, fresh: func(w *world, _ *who) call {
		k := w.e.must(201, w.e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "spare"})
		return call{params: map[string]string{"id": k["id"].(string)}}
	}},
	"list-seat-requests": {rule: operatorOnly},
	// Webhook endpoints of studio.
	"create-webhook":        {rule: operatorOnly, body: map[string]any{"url": "https://hooks.example.com/another"}},
	"list-webhooks":         {rule: operatorOnly},
	"get-webhook":           {rule: operatorOnly},
	"update-webhook":        {rule: operatorOnly, body: map[string]any{"description": "CRM"}},
	"rotate-webhook-secret": {rule: operatorOnly},
	"test-webhook":          {rule: operatorOnly},
	"delete-webhook": {rule: operatorOnly, fresh: func(w *world, _ *who) call {
		h := w.e.must(201, w.e.op, "POST", "/api/v1/applications/studio/webhooks", map[string]any{"url": "https://hooks.example.com/spare"})
		return call{params: map[string]string{"id": h["id"].(string)}}
	}},
	"list-webhook-deliveries": {rule: operatorOnly},
	// The sign-in client of studio.
	"put-oidc-client":        {rule: operatorOnly, body: map[string]any{"redirect_uris": []string{"https://studio.example.com/callback"}}},
	"get-oidc-client":        {rule: operatorOnly},
	"rotate-oidc-secret":     {rule: operatorOnly},
	"retry-webhook-delivery": {rule: operatorOnly},
	"approve-seat-request":   {rule: operatorOnly, fresh: func(w *world, _ *who) call { return call{params: w.seatRequest(), body: map[string]any{"seats": 1}} }},
	"deny-seat-request":      {rule: operatorOnly, fresh: func(w *world, _ *who) call { return call{params: w.seatRequest()} }},
	"list-platform-audit":    {rule: operatorOnly},

	// Organization: members.
	"get-summary":  {rule: perm(account.PermMembersRead)},
	"list-members": {rule: perm(account.PermMembersRead), query: "q=target&state=active&limit=5"},
	"get-member":   {rule: perm(account.PermMembersRead)},
	// An export is the member list in a file: what members.read shows.
	"export-members-xlsx": {rule: perm(account.PermMembersRead)},
	"export-members-csv":  {rule: perm(account.PermMembersRead)},
	"add-member": {rule: perm(account.PermMembersInvite), fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"email": w.fresh("added") + "@acme.test", "first_name": "A", "last_name": "M",
			"role": "member", "send_invite": false, "password": pw}}
	}},
	"update-member":     {rule: perm(account.PermMembersManage), body: map[string]any{"first_name": "Tess"}},
	"deactivate-member": {rule: perm(account.PermMembersManage), fresh: func(w *world, _ *who) call { return call{params: w.freshMember(false)} }},
	"reactivate-member": {rule: perm(account.PermMembersManage), fresh: func(w *world, _ *who) call { return call{params: w.freshMember(true)} }},
	"remove-member":     {rule: perm(account.PermMembersRemove), fresh: func(w *world, _ *who) call { return call{params: w.freshMember(false)} }},
	"remove-members": {rule: perm(account.PermMembersRemove), fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"accounts": []string{w.freshMember(false)["account"]}}}
	}},

	// Invitations and join requests.
	"invite": {rule: perm(account.PermMembersInvite), fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"emails": []string{w.fresh("invitee") + "@acme.test"}, "role": "member"}}
	}},
	"list-invitations": {rule: perm(account.PermMembersRead), query: "status=pending"},
	"get-invitation":   {rule: perm(account.PermMembersRead)},
	"resend-invitations": {rule: perm(account.PermMembersInvite), fresh: func(w *world, _ *who) call {
		id, _ := w.invitation()
		return call{body: map[string]any{"invitations": []string{id}}}
	}},
	"resend-invitation": {rule: perm(account.PermMembersInvite), fresh: func(w *world, _ *who) call {
		id, _ := w.invitation()
		return call{params: map[string]string{"id": id}}
	}},
	"cancel-invitation": {rule: perm(account.PermMembersInvite), fresh: func(w *world, _ *who) call {
		id, _ := w.invitation()
		return call{params: map[string]string{"id": id}}
	}},
	"list-join-requests": {rule: perm(account.PermJoinRequestsReview), query: "status=pending"},
	// Any account may ask to join an organization it is not in: a fresh one.
	"create-join-request": {rule: anySession, fresh: func(w *world, _ *who) call {
		slug := w.fresh("open")
		w.e.org(slug, "")
		return call{params: map[string]string{"org": slug}, body: map[string]any{"message": "let me in"}}
	}},
	// Approving invites the requester: it needs members.invite too.
	"approve-join-request": {rule: perm(account.PermJoinRequestsReview, account.PermMembersInvite), fresh: func(w *world, _ *who) call { return call{params: w.joinRequest()} }},
	"deny-join-request":    {rule: perm(account.PermJoinRequestsReview), fresh: func(w *world, _ *who) call { return call{params: w.joinRequest()} }},

	// Domains: an organization's administrators (members.manage). Verifying a fresh
	// pending domain looks its record up at the test's DNS server, which has none:
	// 200 with the failed check (the attacks: TestDomainsCrossTenant).
	"list-domains": {rule: perm(account.PermMembersManage)},
	"get-domain":   {rule: perm(account.PermMembersManage)},
	"add-domain": {rule: perm(account.PermMembersManage), fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"domain": w.fresh("add") + ".example.com"}}
	}},
	"remove-domain": {rule: perm(account.PermMembersManage), fresh: func(w *world, _ *who) call { return call{params: w.domain()} }},
	"verify-domain": {rule: perm(account.PermMembersManage), fresh: func(w *world, _ *who) call { return call{params: w.domain()} }},

	// Imports.
	"import-template": {rule: perm(account.PermImportsRun)},
	"upload-import":   {rule: perm(account.PermImportsRun), body: upload{name: "people.csv", content: []byte("email\nqueued@acme.test\n")}},
	"list-imports":    {rule: perm(account.PermImportsRun)},
	"get-import":      {rule: perm(account.PermImportsRun)},
	"import-errors":   {rule: perm(account.PermImportsRun)},

	// Subscriptions and seats.
	"create-subscription": {rule: partnerManager, body: map[string]any{"application": "studio", "seats": 1,
		"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"}},
	"list-subscriptions":  {rule: perm(account.PermMembersRead)},
	"get-subscription":    {rule: perm(account.PermMembersRead)},
	"update-subscription": {rule: partnerManager, body: map[string]any{"seats": matrixSeats}},
	// A subscription is renewed once: each call renews a fresh one.
	"renew-subscription": {rule: partnerManager, fresh: func(w *world, _ *who) call {
		sub := w.e.must(201, w.e.op, "POST", "/api/v1/organizations/acme/subscriptions", map[string]any{"application": "studio",
			"seats": 1, "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"})
		return call{params: map[string]string{"sub": sub["id"].(string)}, body: map[string]any{"seats": matrixSeats,
			"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2031-01-01T00:00:00Z"}}
	}},
	"assign-seat": {rule: perm(account.PermSeatsAssign), fresh: func(w *world, _ *who) call { return call{params: w.freshMember(false)} }},
	"unassign-seat": {rule: perm(account.PermSeatsAssign), fresh: func(w *world, _ *who) call {
		m := w.freshMember(false)
		w.e.must(200, w.e.op, "PUT", "/api/v1/organizations/acme/subscriptions/"+w.params["sub"]+"/seats/"+m["account"], nil)
		return call{params: m}
	}},
	"update-seats": {rule: perm(account.PermSeatsAssign), fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"assign": []string{w.freshMember(false)["account"]}}}
	}},
	"create-seat-request":    {rule: perm(account.PermSeatsRequest), body: map[string]any{"application": "studio", "quantity": 5, "note": "more"}},
	"list-org-seat-requests": {rule: perm(account.PermSeatsRequest)},

	// Roles and teams. Role bodies hold no permission, so that the role ceiling
	// never stands in for the permission under test.
	"list-roles": {rule: perm(account.PermMembersRead)},
	"get-role":   {rule: perm(account.PermMembersRead)},
	"create-role": {rule: perm(account.PermRolesManage), fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"name": w.fresh("Role"), "permissions": []string{}}}
	}},
	"update-role": {rule: perm(account.PermRolesManage), body: map[string]any{"name": "Empty"}},
	"delete-role": {rule: perm(account.PermRolesManage), fresh: func(w *world, _ *who) call {
		r := w.e.must(201, w.e.op, "POST", "/api/v1/organizations/acme/roles", map[string]any{"name": w.fresh("Spare"), "permissions": []string{}})
		return call{params: map[string]string{"role": r["id"].(string)}}
	}},
	"list-teams":  {rule: perm(account.PermMembersRead)},
	"get-team":    {rule: perm(account.PermMembersRead)},
	"create-team": {rule: perm(account.PermTeamsManage), fresh: func(w *world, _ *who) call { return call{body: map[string]any{"name": w.fresh("Team")}} }},
	"rename-team": {rule: perm(account.PermTeamsManage), body: map[string]any{"name": "Sales"}},
	"delete-team": {rule: perm(account.PermTeamsManage), fresh: func(w *world, _ *who) call {
		t := w.e.must(201, w.e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": w.fresh("Spare")})
		return call{params: map[string]string{"team": t["id"].(string)}}
	}},

	// SCIM tokens.
	"list-scim-tokens":  {rule: perm(account.PermOrganizationManage)},
	"create-scim-token": {rule: perm(account.PermOrganizationManage), body: map[string]any{"description": "Entra ID"}},
	"revoke-scim-token": {rule: perm(account.PermOrganizationManage), fresh: func(w *world, _ *who) call {
		t := w.e.must(201, w.e.op, "POST", "/api/v1/organizations/acme/scim-tokens", map[string]any{"description": w.fresh("idp")})
		return call{params: map[string]string{"id": t["id"].(string)}}
	}},

	// Applications.
	"check": {rule: applicationKey, fresh: func(w *world, _ *who) call {
		return call{query: "organization=acme&application=studio&account=" + w.params["account"]}
	}},
	"check-batch": {rule: applicationKey, fresh: func(w *world, _ *who) call {
		return call{body: map[string]any{"items": []any{map[string]any{"organization": "acme", "account": w.params["account"]}}}}
	}},
	"list-entitlements": {rule: applicationKey},
	// The feed of studio: its own key and the operator.
	"list-events": {rule: func(p *who) outcome {
		switch p.kind {
		case anonymous:
			return unauthenticated
		case appKey, operator:
			return allowed
		}
		return forbidden
	}},

	"list-audit": {rule: perm(account.PermAuditRead)},
}

// scenario is an operation called again with another object or body, where who may
// call it changes with whom it acts on: the rules of "Who may act on a person".
type scenario struct {
	name, method, path string // path parameters as in the OpenAPI document
	rule               rule
	fresh              func(w *world, p *who) call
	// check, when set, judges an allowed answer further ("" when right).
	check func(r resp, p *who) string
}

// personRule: acting on a person's own profile in acme: only the operator; acme's
// members and its partner's are refused whatever their role (the body is not
// looked at), other tenants see nothing.
var personRule = orgRule(func(*who) bool { return false })

// invitesInstead: members.invite may add the person, who is invited (their account
// is another organization's); the operator links them directly.
func invitesInstead(r resp, p *who) string {
	want := "invited"
	if p.kind == operator {
		want = "active"
	}
	if got := r.Body["state"]; got != want {
		return fmt.Sprintf("the member is %v, want %s", got, want)
	}
	if acct := r.Body["account"].(map[string]any); want == "invited" && acct["first_name"] != "" {
		return fmt.Sprintf("an invitee's profile shows: %v", acct)
	}
	return ""
}

var matrixScenarios = []scenario{
	{name: "update-member: the profile of an account acme does not manage", method: "PATCH",
		path: "/api/v1/organizations/{org}/members/{account}", rule: personRule,
		fresh: func(w *world, _ *who) call {
			return call{params: map[string]string{"account": w.params["person"]}, body: map[string]any{"last_name": "Hacked"}}
		}},
	{name: "update-member: the teams of an account acme does not manage", method: "PATCH",
		path: "/api/v1/organizations/{org}/members/{account}", rule: perm(account.PermMembersManage),
		fresh: func(w *world, _ *who) call {
			return call{params: map[string]string{"account": w.params["person"]}, body: map[string]any{"teams": []string{"Sales"}}}
		}},
	{name: "add-member: an account another organization manages, send_invite false", method: "POST",
		path: "/api/v1/organizations/{org}/members", rule: perm(account.PermMembersInvite), check: invitesInstead,
		fresh: func(w *world, _ *who) call {
			return call{body: map[string]any{"email": w.freshAccount(), "role": "member", "send_invite": false}}
		}},
	{name: "add-member: a password for an account Roster knows", method: "POST",
		path: "/api/v1/organizations/{org}/members",
		rule: func(p *who) outcome {
			if o := perm(account.PermMembersInvite)(p); o != allowed {
				return o
			}
			return invalid
		},
		fresh: func(w *world, _ *who) call {
			return call{body: map[string]any{"email": w.freshAccount(), "role": "member", "send_invite": false, "password": pw}}
		}},
}

// matrixSeats is acme's quota: room for every seat the matrix assigns.
const matrixSeats = 10000

// world is the fixture the matrix runs on: two partners with an organization each,
// acme (under north) with a member of every predefined role and of a custom role per
// permission, a standalone organization, an application with a key and a
// subscription, an invitation, a join request, an import, a seat request.
type world struct {
	e       *env
	callers []*who
	params  map[string]string // path parameter → the object of acme it names ("id" by the segment before it)
	n       int
}

func (w *world) fresh(prefix string) string {
	w.n++
	return fmt.Sprintf("%s%d", prefix, w.n)
}

// freshAccount creates an active account (a member of globex) and returns its email.
func (w *world) freshAccount() string {
	email := w.fresh("acct") + "@globex.test"
	w.e.member(w.e.op, "globex", email, "member")
	return email
}

func (w *world) accountIDOf(email string) string {
	list := w.e.must(200, w.e.op, "GET", "/api/v1/organizations/globex/members?q="+url.QueryEscape(email), nil)
	return list["items"].([]any)[0].(map[string]any)["account"].(map[string]any)["id"].(string)
}

// freshMember adds an active member with the member role to acme (deactivated when
// asked) and returns its path parameter.
func (w *world) freshMember(deactivated bool) map[string]string {
	id := accountID(w.e.member(w.e.op, "acme", w.fresh("m")+"@acme.test", "member"))
	if deactivated {
		w.e.must(200, w.e.op, "POST", "/api/v1/organizations/acme/members/"+id+"/deactivate", nil)
	}
	return map[string]string{"account": id}
}

// invitation invites a new person to acme and returns the invitation's id and token.
func (w *world) invitation() (id, token string) {
	email := w.fresh("inv") + "@acme.test"
	m := w.e.must(201, w.e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{
		"email": email, "first_name": "I", "last_name": "N", "role": "member", "send_invite": true})
	return m["invitation"].(map[string]any)["id"].(string), w.e.link(account.NoticeInvitation, email)
}

// joinRequest has a new account ask to join acme.
func (w *world) joinRequest() map[string]string {
	email := w.freshAccount()
	jr := w.e.must(201, w.e.login(email, pw), "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "hi"})
	return map[string]string{"id": jr["id"].(string)}
}

// domain adds a fresh pending domain to acme.
func (w *world) domain() map[string]string {
	d := w.e.must(201, w.e.op, "POST", "/api/v1/organizations/acme/domains", map[string]any{"domain": w.fresh("dom") + ".example.com"})
	return map[string]string{"id": d["id"].(string)}
}

func (w *world) seatRequest() map[string]string {
	r := w.e.must(201, w.e.op, "POST", "/api/v1/organizations/acme/seat-requests", map[string]any{"application": "studio", "quantity": 1, "note": "n"})
	return map[string]string{"id": r["id"].(string)}
}

// relogin opens another session for a caller with an account (for logout).
func (w *world) relogin(p *who) string {
	if p.email == "" {
		return p.token
	}
	return w.e.login(p.email, pw)
}

// enrol makes p a member of org with its acme role (a custom role is made again
// there).
func (w *world) enrol(org string, p *who) {
	if p.kind != inAcme {
		return
	}
	role := p.role
	if p.perm != "" {
		role = w.e.must(201, w.e.op, "POST", "/api/v1/organizations/"+org+"/roles",
			map[string]any{"name": "Only " + string(p.perm), "permissions": []string{string(p.perm)}})["id"].(string)
	}
	w.e.must(201, w.e.op, "POST", "/api/v1/organizations/"+org+"/members",
		map[string]any{"email": p.email, "role": role, "send_invite": false})
}

func predefinedPerms(id string) account.PermissionSet {
	for _, r := range account.PredefinedRoles() {
		if r.ID == id {
			return r.Permissions
		}
	}
	panic("no predefined role " + id)
}

// matrixLimits lifts the rate limits: the matrix logs in, signs up and invites far
// more often than a person would.
var matrixLimits = withLimits(func(d *limits.Config) {
	lots := ratelimit.Limit{Every: time.Millisecond, Burst: 100_000}
	d.LoginPerIP, d.LoginPerEmail, d.InvitesPerAccount, d.JoinRequestsPerAccount = lots, lots, lots, lots
	d.SelfServicePerIP, d.SelfServicePerEmail = lots, lots
})

func newWorld(t *testing.T, db *sqlstore.DB) *world {
	e := newEnv(t, db, matrixLimits)
	w := &world{e: e, params: map[string]string{}}
	e.org("north", "-")
	e.org("south", "-")
	e.org("acme", "north")
	e.org("cyan", "south")
	e.org("globex", "")
	e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
	sub := e.subscribe("acme", "studio", matrixSeats, 365*24*time.Hour)
	key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "production"})
	team := e.must(201, e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"})
	empty := e.must(201, e.op, "POST", "/api/v1/organizations/acme/roles", map[string]any{"name": "Empty", "permissions": []string{}})
	target := e.member(e.op, "acme", "target@acme.test", "member", map[string]any{"teams": []string{"Sales"}, "applications": []string{"studio"}})
	person := e.person("acme", "person@acme.test", "member") // their own account, in acme

	add := func(p *who) { w.callers = append(w.callers, p) }
	add(&who{name: "anonymous", kind: anonymous})
	add(&who{name: "application key", kind: appKey, token: key["key"].(string)})
	add(&who{name: "operator", kind: operator, token: e.op, email: operatorEmail})
	for _, r := range account.PredefinedRoles() {
		email := r.ID + "@acme.test"
		e.member(e.op, "acme", email, r.ID)
		add(&who{name: "acme " + r.ID, kind: inAcme, token: e.login(email, pw), email: email, role: r.ID, perms: r.Permissions})
	}
	for i, p := range account.Catalogue() {
		role := e.must(201, e.op, "POST", "/api/v1/organizations/acme/roles",
			map[string]any{"name": "Only " + string(p), "permissions": []string{string(p)}})
		email := fmt.Sprintf("custom%d@acme.test", i)
		e.member(e.op, "acme", email, role["id"].(string))
		set, err := account.ParsePermissions("permissions", []string{string(p)})
		if err != nil {
			t.Fatal(err)
		}
		add(&who{name: "acme custom role " + string(p), kind: inAcme, token: e.login(email, pw), email: email,
			role: role["id"].(string), perms: set, perm: p})
	}
	for _, c := range []struct {
		name, org, role string
		kind            whoKind
		perms           account.PermissionSet
	}{
		{"north's owner (acme's partner)", "north", "owner", inNorth, account.AllPermissions},
		{"north's admin (acme's partner)", "north", "admin", inNorth, predefinedPerms(account.RoleAdmin)},
		{"globex's admin (another organization)", "globex", "admin", outsider, 0},
		{"south's admin (another partner)", "south", "admin", outsider, 0},
	} {
		email := c.role + "@" + c.org + ".test"
		e.member(e.op, c.org, email, c.role)
		add(&who{name: c.name, kind: c.kind, token: e.login(email, pw), email: email, perms: c.perms})
	}

	// The objects of acme the routes' path parameters name.
	invID, invToken := w.invitation()
	e.member(e.op, "globex", "asker@globex.test", "member")
	jr := e.must(201, e.login("asker@globex.test", pw), "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "hi"})
	imp := e.must(202, e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "p.csv", content: []byte("email,role\nok@acme.test,member\nbad@acme.test,wizard\n")})
	e.runImports()
	sr := w.seatRequest()
	dom := w.domain()
	hook := e.must(201, e.op, "POST", "/api/v1/applications/studio/webhooks", map[string]any{"url": "https://hooks.example.com/roster"})
	e.must(200, e.op, "PUT", "/api/v1/applications/studio/oidc", map[string]any{"redirect_uris": []string{"https://studio.example.com/callback"}})
	e.must(202, e.op, "POST", "/api/v1/applications/studio/webhooks/"+hook["id"].(string)+"/test", nil)
	dels := e.must(200, e.op, "GET", "/api/v1/applications/studio/webhooks/"+hook["id"].(string)+"/deliveries", nil)
	w.params = map[string]string{
		"webhooks/{id}": hook["id"].(string), "delivery": dels["items"].([]any)[0].(map[string]any)["id"].(string),
		"org": "acme", "account": accountID(target), "sub": sub["id"].(string), "app": "studio",
		"team": team["id"].(string), "role": empty["id"].(string), "token": invToken,
		"invitations/{id}": invID, "join-requests/{id}": jr["id"].(string), "imports/{id}": imp["id"].(string),
		"keys/{id}": key["id"].(string), "seat-requests/{id}": sr["id"], "domains/{id}": dom["id"], "person": accountID(person),
	}
	return w
}

var pathParam = regexp.MustCompile(`([^/]*)/\{([a-z]+)\}`)

// path fills the path's parameters: from c, else the world's object for the
// parameter (an {id} by the segment before it).
func (w *world) path(t *testing.T, opID, path string, c call) (string, bool) {
	ok := true
	out := pathParam.ReplaceAllStringFunc(path, func(m string) string {
		sub := pathParam.FindStringSubmatch(m)
		seg, name := sub[1], sub[2]
		if v, found := c.params[name]; found {
			return seg + "/" + url.PathEscape(v)
		}
		if v, found := w.params[seg+"/{"+name+"}"]; found {
			return seg + "/" + url.PathEscape(v)
		}
		if v, found := w.params[name]; found {
			return seg + "/" + url.PathEscape(v)
		}
		t.Errorf("%s %s: the matrix has no object for {%s}: add it to the world's params or a fresh func", opID, path, name)
		ok = false
		return m
	})
	return out, ok
}

type matrixOp struct{ id, method, path string }

// operations lists the OpenAPI document's operations, sorted with last routes at the
// end.
func operations(t *testing.T, e *env) []matrixOp {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(e.call("", "GET", "/api/v1/openapi.json", nil).Raw), &doc); err != nil {
		t.Fatal(err)
	}
	var ops []matrixOp
	for path, byMethod := range doc.Paths {
		for method, op := range byMethod {
			ops = append(ops, matrixOp{op.OperationID, strings.ToUpper(method), path})
		}
	}
	slices.SortFunc(ops, func(a, b matrixOp) int {
		la, lb := matrixRoutes[a.id].last, matrixRoutes[b.id].last
		if la != lb {
			if la {
				return 1
			}
			return -1
		}
		return strings.Compare(a.id, b.id)
	})
	return ops
}

// TestAuthorizationMatrix calls every operation as anonymous, an application key,
// the operator, each predefined role of acme, a custom role of acme per permission,
// the owner and an admin of acme's partner, an admin of another organization and an
// admin of another partner, and checks each answer against matrixRoutes: allowed → 2xx,
// refused inside the tenant → 403, the wrong kind of credential → 401, another
// tenant → 404.
func TestAuthorizationMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		e := w.e
		ops := operations(t, e)
		ids := map[string]bool{}
		for _, op := range ops {
			ids[op.id] = true
		}
		for id := range notInMatrix {
			if !ids[id] {
				t.Errorf("notInMatrix names %q, which is not an operation", id)
			}
		}
		for id := range matrixRoutes {
			if !ids[id] {
				t.Errorf("matrixRoutes names %q, which is not an operation", id)
			}
		}
		calls := 0
		for _, op := range ops {
			if _, skip := notInMatrix[op.id]; skip {
				continue
			}
			r, ok := matrixRoutes[op.id]
			if !ok {
				t.Errorf("%s %s (%s) has no entry in matrixRoutes: declare who may call it", op.method, op.path, op.id)
				continue
			}
			for _, p := range w.callers {
				c := call{body: r.body, query: r.query}
				if r.fresh != nil {
					f := r.fresh(w, p)
					c.params, c.token = f.params, f.token
					if f.body != nil {
						c.body = f.body
					}
					if f.query != "" {
						c.query = f.query
					}
				}
				path, ok := w.path(t, op.id, op.path, c)
				if !ok {
					break
				}
				if c.query != "" {
					path += "?" + c.query
				}
				token := p.token
				if c.token != "" {
					token = c.token
				}
				want := r.rule(p)
				got := e.call(token, op.method, path, c.body)
				calls++
				if msg := judge(got, want, r.hiddenStatus); msg != "" {
					t.Errorf("%s %s as %s: %s, want %s\n%s", op.method, path, p.name, msg, want, truncateBody(got.Raw))
				}
			}
		}
		for _, sc := range matrixScenarios {
			for _, p := range w.callers {
				c := sc.fresh(w, p)
				path, ok := w.path(t, sc.name, sc.path, c)
				if !ok {
					break
				}
				want := sc.rule(p)
				got := e.call(p.token, sc.method, path, c.body)
				calls++
				msg := judge(got, want, 0)
				if msg == "" && want == allowed && sc.check != nil {
					msg = sc.check(got, p)
				}
				if msg != "" {
					t.Errorf("%s (%s %s) as %s: %s, want %s\n%s", sc.name, sc.method, path, p.name, msg, want, truncateBody(got.Raw))
				}
			}
		}
		if calls < 1000 {
			t.Errorf("only %d calls made", calls)
		}
		t.Logf("%d operations × %d callers: %d calls", len(ops), len(w.callers), calls)
	})
}

// judge returns what is wrong with r for the expected outcome ("" when nothing).
func judge(r resp, want outcome, hiddenStatus int) string {
	slug, _ := r.Body["type"].(string)
	slug = strings.TrimPrefix(slug, "https://roster.dev/problems/")
	switch want {
	case allowed:
		if r.Status < 200 || r.Status > 299 {
			return fmt.Sprintf("got %d %s", r.Status, slug)
		}
		return ""
	case hidden:
		if hiddenStatus != 0 {
			if r.Status != hiddenStatus {
				return fmt.Sprintf("got %d %s (an invisible body reference answers %d)", r.Status, slug, hiddenStatus)
			}
			return ""
		}
	}
	status := map[outcome]int{unauthenticated: 401, forbidden: 403, hidden: 404, invalid: 422}[want]
	wantSlug := map[outcome]string{unauthenticated: "unauthenticated", forbidden: "forbidden", hidden: "not-found", invalid: "validation"}[want]
	if r.Status != status || slug != wantSlug {
		return fmt.Sprintf("got %d %s", r.Status, slug)
	}
	return ""
}

func truncateBody(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
