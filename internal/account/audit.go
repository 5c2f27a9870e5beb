package account

import "context"

// AuditAction names what an audit event records, as "<object>.<what happened>"; the
// catalogue below is every action Roster writes.
type AuditAction string

// The audit actions.
const (
	AuditAccountActivated              AuditAction = "account.activated"
	AuditAccountClaimed                AuditAction = "account.claimed"
	AuditAccountDeleted                AuditAction = "account.deleted"
	AuditAccountDisabled               AuditAction = "account.disabled"
	AuditAccountEnabled                AuditAction = "account.enabled"
	AuditAccountPasswordChanged        AuditAction = "account.password_changed"
	AuditAccountPasswordReset          AuditAction = "account.password_reset"
	AuditAccountPasswordResetRequested AuditAction = "account.password_reset_requested"
	AuditAccountSignedUp               AuditAction = "account.signed_up"
	AuditAccountSignupRequested        AuditAction = "account.signup_requested"
	AuditAccountUpdated                AuditAction = "account.updated"

	AuditApplicationCreated AuditAction = "application.created"
	AuditApplicationUpdated AuditAction = "application.updated"

	AuditApplicationKeyCreated AuditAction = "application_key.created"
	AuditApplicationKeyRevoked AuditAction = "application_key.revoked"

	AuditAuthLogin  AuditAction = "auth.login"
	AuditAuthLogout AuditAction = "auth.logout"

	AuditDomainAdded    AuditAction = "domain.added"
	AuditDomainChecked  AuditAction = "domain.checked" // a check by hand that did not find the record
	AuditDomainExpired  AuditAction = "domain.expired"
	AuditDomainRemoved  AuditAction = "domain.removed"
	AuditDomainVerified AuditAction = "domain.verified"

	AuditEmailRetried AuditAction = "email.retried"

	AuditImportFailed   AuditAction = "import.failed"
	AuditImportFinished AuditAction = "import.finished"
	AuditImportStarted  AuditAction = "import.started"

	AuditInvitationAccepted  AuditAction = "invitation.accepted"
	AuditInvitationCancelled AuditAction = "invitation.cancelled"
	AuditInvitationCreated   AuditAction = "invitation.created"
	AuditInvitationResent    AuditAction = "invitation.resent"

	AuditJoinRequestApproved  AuditAction = "join_request.approved"
	AuditJoinRequestCancelled AuditAction = "join_request.cancelled"
	AuditJoinRequestCreated   AuditAction = "join_request.created"
	AuditJoinRequestDenied    AuditAction = "join_request.denied"

	AuditMemberAdded       AuditAction = "member.added"
	AuditMemberDeactivated AuditAction = "member.deactivated"
	AuditMemberInvited     AuditAction = "member.invited"
	AuditMemberLeft        AuditAction = "member.left"
	AuditMemberReactivated AuditAction = "member.reactivated"
	AuditMemberRemoved     AuditAction = "member.removed"
	AuditMemberSCIMUpdated AuditAction = "member.scim_updated"
	AuditMemberUpdated     AuditAction = "member.updated"

	AuditOIDCClientUpdated AuditAction = "oidc_client.updated"
	AuditOIDCSecretRotated AuditAction = "oidc_client.secret_rotated"
	AuditOIDCSignedIn      AuditAction = "oidc.signed_in"
	AuditOIDCSignInRefused AuditAction = "oidc.sign_in_refused"
	AuditOIDCTokenRefused  AuditAction = "oidc.token_refused"
	AuditOIDCKeyRotated    AuditAction = "oidc.key_rotated"
	AuditOIDCLogoutSent    AuditAction = "oidc.logout_sent"
	AuditOIDCLogoutFailed  AuditAction = "oidc.logout_failed"

	AuditOperatorBootstrapped AuditAction = "operator.bootstrapped"

	AuditOrganizationCreated AuditAction = "organization.created"
	AuditOrganizationDeleted AuditAction = "organization.deleted"
	AuditOrganizationUpdated AuditAction = "organization.updated"

	AuditRoleCreated AuditAction = "role.created"
	AuditRoleDeleted AuditAction = "role.deleted"
	AuditRoleUpdated AuditAction = "role.updated"

	AuditSCIMTokenCreated AuditAction = "scim_token.created"
	AuditSCIMTokenRevoked AuditAction = "scim_token.revoked"

	AuditSeatAssigned   AuditAction = "seat.assigned"
	AuditSeatUnassigned AuditAction = "seat.unassigned"

	AuditSeatRequestApproved AuditAction = "seat_request.approved"
	AuditSeatRequestCreated  AuditAction = "seat_request.created"
	AuditSeatRequestDenied   AuditAction = "seat_request.denied"

	AuditSubscriptionCreated AuditAction = "subscription.created"
	AuditSubscriptionRenewed AuditAction = "subscription.renewed"
	AuditSubscriptionUpdated AuditAction = "subscription.updated"

	AuditWebhookCreated         AuditAction = "webhook.created"
	AuditWebhookDeleted         AuditAction = "webhook.deleted"
	AuditWebhookDeliveryRetried AuditAction = "webhook.delivery_retried"
	AuditWebhookDisabled        AuditAction = "webhook.disabled"
	AuditWebhookSecretRotated   AuditAction = "webhook.secret_rotated"
	AuditWebhookUpdated         AuditAction = "webhook.updated"

	AuditTeamCreated        AuditAction = "team.created"
	AuditTeamDeleted        AuditAction = "team.deleted"
	AuditTeamMembersChanged AuditAction = "team.members_changed"
	AuditTeamRenamed        AuditAction = "team.renamed"
)

// AuditQuery pages through an organization's audit events, newest first.
type AuditQuery struct {
	Cursor string
	Limit  int
}

// FindAuditEvents lists an organization's audit trail. Needs audit.read.
func (s *Service) FindAuditEvents(ctx context.Context, actor Actor, orgRef string, q AuditQuery) (p Page[AuditEvent], err error) {
	defer wrap(&err, "FindAuditEvents(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermAuditRead, func(tx Tx, a access) error {
		return s.auditEvents(ctx, tx, a, q, &p)
	})
	return p, err
}

// auditEvents is FindAuditEvents in tx, for an actor authorized in a (with
// audit.read).
func (s *Service) auditEvents(ctx context.Context, tx Tx, a access, q AuditQuery, p *Page[AuditEvent]) error {
	limit, errL := pageLimit(q.Limit)
	cur, errC := decodeCursor(q.Cursor)
	if err := collect(errL, errC); err != nil {
		return err
	}
	return s.auditPage(ctx, tx, a.org.ID, cur.after, limit, p)
}

// FindPlatformAuditEvents lists events outside any organization (logins, account
// deletions, bootstrap). Operators only.
func (s *Service) FindPlatformAuditEvents(ctx context.Context, actor Actor, q AuditQuery) (p Page[AuditEvent], err error) {
	if !actor.Account.Operator {
		return p, Errorf(EFORBIDDEN, "only an operator reads the platform audit trail")
	}
	limit, errL := pageLimit(q.Limit)
	cur, errC := decodeCursor(q.Cursor)
	if err := collect(errL, errC); err != nil {
		return p, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		return s.auditPage(ctx, tx, "", cur.after, limit, &p)
	})
	return p, err
}

func (s *Service) auditPage(ctx context.Context, tx Tx, orgID, before string, limit int, p *Page[AuditEvent]) error {
	items, err := tx.FindAudit(ctx, AuditFilter{OrgID: orgID, Before: before, Limit: limit + 1})
	if err != nil {
		return err
	}
	total, err := tx.CountAudit(ctx, orgID)
	if err != nil {
		return err
	}
	*p = pageOf(items, total, limit, func(e AuditEvent) string { return e.ID })
	return nil
}
