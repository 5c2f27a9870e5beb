package account

import (
	"context"
	"strings"
)

// The kinds of access-change emails.
const (
	NoticeSeatAssigned   = "seat.assigned"
	NoticeSeatUnassigned = "seat.unassigned"
	NoticeRoleChanged    = "role.changed"
	NoticeAdminGranted   = "admin.granted"
	NoticeAdminRevoked   = "admin.revoked"
	NoticeDeactivated    = "member.deactivated"
	NoticeReactivated    = "member.reactivated"
	NoticeRemoved        = "member.removed"
	// NoticeLeft confirms to a member that they left an organization;
	// NoticeMemberLeft tells its administrators.
	NoticeLeft       = "member.left"
	NoticeMemberLeft = "member.left.admin"

	// Emails of the invitation, join-request, sign-up and password-reset flows.
	NoticeInvitation    = "invitation"
	NoticeJoinRequest   = "join_request.created"
	NoticeVerifyEmail   = "account.verify_email"
	NoticeAccountExists = "account.exists"
	NoticePasswordReset = "account.password_reset"
	// NoticeActivation welcomes a person whose account an organization created (by
	// SCIM) with a link to set its password.
	NoticeActivation = "account.activation"

	// Emails of seat requests: the request to the operators, the decision to the
	// person who asked.
	NoticeSeatRequest         = "seat_request.created"
	NoticeSeatRequestApproved = "seat_request.approved"
	NoticeSeatRequestDenied   = "seat_request.denied"

	// NoticeWebhookDisabled tells the operators that Roster disabled a webhook
	// endpoint whose deliveries failed for 5 days (Application, Message: its URL,
	// Expires: since when).
	NoticeWebhookDisabled = "webhook.disabled"

	// NoticeAccountDisabled tells a person an operator disabled their account;
	// NoticeAccountEnabled that it is enabled again.
	NoticeAccountDisabled = "account.disabled"
	NoticeAccountEnabled  = "account.enabled"

	// NoticeDomainVerified and NoticeDomainExpired tell an organization's
	// administrators that one of its domains (Message) verified, or expired unseen
	// (Expires: when); NoticeDomainJoined tells a person the auto join policy of
	// their email's domain (Message) made them a member (Role, Allows).
	NoticeDomainVerified = "domain.verified"
	NoticeDomainExpired  = "domain.expired"
	NoticeDomainJoined   = "domain.joined"
	// NoticeDomainManaged tells a person that an organization, which manages the
	// accounts of their email's verified domain (Message), made their existing
	// account its member directly; NoticeDomainEdited that it changed their
	// profile (Changes: the fields, in words).
	NoticeDomainManaged = "domain.managed"
	NoticeDomainEdited  = "domain.edited"
)

// Notice is an email telling a person that their access changed: what changed, in
// which organization, who did it, and where to go next.
type Notice struct {
	Kind         string
	To           string // the person's email
	Name         string // their first name, or their email when they have none
	Organization string // the organization's name
	Actor        string // who made the change: a name, or an email
	Application  string // seat notices: the application's name
	Role         string // role notices: the new role's name
	PreviousRole string // role notices: the old role's name
	// Allows says in words what the new role lets the person do, its permissions in
	// catalogue order ("see its members and teams, invite people"); empty for a role
	// with none.
	Allows     string
	Seats      int    // seat requests: the seats asked for, or the seats an approval added
	Link       string // the call to action's URL
	Secret     string // the one-time token in Link, if any: scrubbed from the outbox once sent
	Expires    string // invitations, verification and reset links: when the link stops working
	Message    string // join requests: the requester's message; seat requests: the note
	ActorEmail string // join requests: the requester's email
	Changes    string // domain.edited: the profile fields changed, in words
}

// Renderer turns a notice into an email's subject, text and HTML (internal/mail
// implements it).
type Renderer interface {
	Render(n Notice) (subject, text, html string, err error)
}

// notify writes the notice to the outbox in tx, the transaction of the change. With
// no Renderer configured, nothing is sent.
func (s *Service) notify(ctx context.Context, tx Tx, orgID string, n Notice) error {
	e, ok, err := s.email(orgID, n)
	if err != nil || !ok {
		return err
	}
	return tx.EnqueueEmail(ctx, e)
}

// email renders a notice into an outbox email; ok is false with no Renderer, and
// for an address that no mail can reach (Undeliverable): every email Roster writes
// to the outbox is made here, so none ever goes to a placeholder.
func (s *Service) email(orgID string, n Notice) (e Email, ok bool, err error) {
	if s.renderer == nil || Undeliverable(n.To) {
		return e, false, nil
	}
	subject, text, html, err := s.renderer.Render(n)
	if err != nil {
		return e, false, err
	}
	return Email{ID: s.ids.New(), OrgID: orgID, Kind: n.Kind, To: n.To,
		Subject: subject, Text: text, HTML: html, Secret: n.Secret, CreatedAt: s.now()}, true, nil
}

// notice starts a notice to the member m about org, made by actor.
func (s *Service) notice(kind string, org Organization, actor Actor, m Member) Notice {
	name := m.Account.FirstName
	if name == "" {
		name = m.Account.Email
	}
	return Notice{Kind: kind, To: m.Account.Email, Name: name, Organization: org.Name,
		Actor: DisplayName(actor.Account), ActorEmail: actor.Account.Email, Link: s.baseURL + "/"}
}

// roleNotice tells a member their role changed: admin rights granted (from a role
// with no permissions to one with some), revoked (the reverse), or another change.
func (s *Service) roleNotice(org Organization, actor Actor, m Member, from, to Role) Notice {
	kind := NoticeRoleChanged
	switch {
	case from.Permissions == 0 && to.Permissions != 0:
		kind = NoticeAdminGranted
	case from.Permissions != 0 && to.Permissions == 0:
		kind = NoticeAdminRevoked
	}
	n := s.notice(kind, org, actor, m)
	n.Role, n.PreviousRole = to.Name, from.Name
	n.Allows = strings.Join(to.Permissions.Abilities(), ", ")
	return n
}

// Undeliverable reports whether no email may be sent to address: an empty one, the
// placeholder of an account without an address of its own (NoMailAddress), or any
// address of the reserved .invalid top-level domain (RFC 2606), which can reach no
// one.
func Undeliverable(address string) bool {
	a := EmailKey(address)
	at := strings.LastIndexByte(a, '@')
	if at < 0 || NoMailAddress(a) {
		return true
	}
	domain := strings.TrimSuffix(a[at+1:], ".")
	return domain == "invalid" || strings.HasSuffix(domain, ".invalid")
}
