package account

import (
	"context"
	"time"
)

// OpenID Connect Back-Channel Logout 1.0: when a person's access ends — their
// membership deactivated or removed, their account disabled or deleted, their
// password reset — the transaction that ends it revokes their grants (refresh and
// access tokens) to every application they signed in to (through that organization,
// for a membership), and writes a logout notice for each sign-in to an application
// whose client has a back-channel logout URI. A worker (internal/oidcop) POSTs a
// signed logout token for each; the audit trail records it sent or given up.

// OIDCLogoutKeep is how long a logout notice sent or given up is kept (its audit
// event stays with the trail).
const OIDCLogoutKeep = 30 * 24 * time.Hour

// LogoutState is the life cycle of a logout notice.
type LogoutState string

const (
	LogoutPending LogoutState = "pending"
	LogoutSent    LogoutState = "sent"
	LogoutFailed  LogoutState = "failed"
)

// Why a logout notice was written (its reason, in the audit trail).
const (
	LogoutMemberDeactivated = "member-deactivated"
	LogoutMemberRemoved     = "member-removed"
	LogoutAccountDisabled   = "account-disabled"
	LogoutAccountDeleted    = "account-deleted"
	LogoutPasswordReset     = "password-reset"
	LogoutPasswordChanged   = "password-changed"
	// LogoutOrganizationDeleted: the organization the person signed in through is
	// gone (its notices are audited in the platform's trail).
	LogoutOrganizationDeleted = "organization-deleted"
)

// OIDCLogoutNotice is one logout token to send: to the application's client, of
// the person's sign-in SID (its authorization request's id, the ID tokens' sid).
type OIDCLogoutNotice struct {
	ID            string
	ApplicationID string
	AccountID     string
	OrgID         string
	SID           string
	Reason        string
	State         LogoutState
	Attempts      int
	StatusCode    int
	LastError     string
	NextAt        time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// OIDCLogoutJob is a claimed notice with its client's back-channel logout URI.
type OIDCLogoutJob struct {
	Notice OIDCLogoutNotice
	URI    string
}

// OIDCLogoutOutcome is the result of one attempt: sent, due again at NextAt, or
// (neither) given up.
type OIDCLogoutOutcome struct {
	Sent       bool
	StatusCode int
	Error      string
	NextAt     time.Time
}

// OIDCLiveGrant is one sign-in of a person with a token still in force: an
// unrevoked, unexpired refresh or access token. LogoutURI is its client's
// back-channel logout URI ("" for none).
type OIDCLiveGrant struct {
	AccountID     string
	ApplicationID string
	OrgID         string
	AuthRequestID string
	LogoutURI     string
}

// OIDCLogoutTx holds the queries of back-channel logout.
type OIDCLogoutTx interface {
	// LiveOIDCGrants lists the person's sign-ins with a token in force at now, in
	// orgID ("" for every organization).
	LiveOIDCGrants(ctx context.Context, accountID, orgID string, now time.Time) ([]OIDCLiveGrant, error)
	// LiveOIDCGrantsInOrganization lists the sign-ins through orgID, of everyone,
	// with a token in force at now.
	LiveOIDCGrantsInOrganization(ctx context.Context, orgID string, now time.Time) ([]OIDCLiveGrant, error)
	// RevokeOIDCGrantsOfAccount revokes every refresh and access token of the
	// person, in orgID ("" for every organization).
	RevokeOIDCGrantsOfAccount(ctx context.Context, accountID, orgID string) error
	// InsertOIDCLogoutNotice queues a notice; the worker is woken after the commit.
	InsertOIDCLogoutNotice(ctx context.Context, n OIDCLogoutNotice) error
	// ClaimOIDCLogouts claims up to n due pending notices for lease, as owner,
	// counting the attempt, with their clients' URIs.
	ClaimOIDCLogouts(ctx context.Context, owner string, now time.Time, n int, lease time.Duration) ([]OIDCLogoutJob, error)
	// CompleteOIDCLogout records an attempt of a notice owner claimed and lets go of
	// the claim; it returns the notice as it is now (ENOTFOUND when it is not
	// owner's claim any more).
	CompleteOIDCLogout(ctx context.Context, owner, id string, now time.Time, o OIDCLogoutOutcome) (OIDCLogoutNotice, error)
	// OIDCLogoutNotices lists the person's notices, oldest first (tests and tools).
	OIDCLogoutNotices(ctx context.Context, accountID string) ([]OIDCLogoutNotice, error)
}

// endOIDCGrants ends the person's sign-ins to the applications, in orgID ("" for
// every organization), in tx: their tokens are revoked, and a logout notice is
// queued for each sign-in to a client with a back-channel logout URI.
func (s *Service) endOIDCGrants(ctx context.Context, tx Tx, accountID, orgID, reason string) error {
	grants, err := tx.LiveOIDCGrants(ctx, accountID, orgID, s.now())
	if err != nil {
		return err
	}
	if err := tx.RevokeOIDCGrantsOfAccount(ctx, accountID, orgID); err != nil {
		return err
	}
	return s.queueLogouts(ctx, tx, grants, reason)
}

// queueLogouts queues in tx a logout notice for each of grants whose client has a
// back-channel logout URI, audited (when sent or given up) in the trail of the
// grant's organization ("": the platform's).
func (s *Service) queueLogouts(ctx context.Context, tx Tx, grants []OIDCLiveGrant, reason string) error {
	now := s.now()
	for _, g := range grants {
		if g.LogoutURI == "" {
			continue
		}
		if err := tx.InsertOIDCLogoutNotice(ctx, OIDCLogoutNotice{ID: s.ids.New(), ApplicationID: g.ApplicationID,
			AccountID: g.AccountID, OrgID: g.OrgID, SID: g.AuthRequestID, Reason: reason, State: LogoutPending,
			NextAt: now, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// endOrganizationOIDCGrants queues, in tx, a logout notice for every sign-in through
// orgID with a token in force, to clients with a back-channel logout URI, before the
// organization is deleted (its tokens go with it). The notices name no
// organization: their audit events go to the platform's trail, the organization's
// being gone.
func (s *Service) endOrganizationOIDCGrants(ctx context.Context, tx Tx, orgID string) error {
	grants, err := tx.LiveOIDCGrantsInOrganization(ctx, orgID, s.now())
	if err != nil {
		return err
	}
	for i := range grants {
		grants[i].OrgID = "" // its trail goes with it
	}
	return s.queueLogouts(ctx, tx, grants, LogoutOrganizationDeleted)
}

// ClaimOIDCLogouts claims due logout notices for the worker.
func (s *Service) ClaimOIDCLogouts(ctx context.Context, owner string, n int, lease time.Duration) (jobs []OIDCLogoutJob, err error) {
	err = s.store.Write(ctx, func(tx Tx) error {
		jobs, err = tx.ClaimOIDCLogouts(ctx, owner, s.now(), n, lease)
		return err
	})
	return jobs, err
}

// CompleteOIDCLogout records an attempt of a claimed notice. A notice sent, or
// given up, is audited in the trail of the organization the person signed in
// through (oidc.logout_sent, oidc.logout_failed).
func (s *Service) CompleteOIDCLogout(ctx context.Context, owner, id string, o OIDCLogoutOutcome) error {
	return s.store.Write(ctx, func(tx Tx) error {
		n, err := tx.CompleteOIDCLogout(ctx, owner, id, s.now(), o)
		if err != nil {
			return err
		}
		after := map[string]any{"application": n.ApplicationID, "sid": n.SID, "reason": n.Reason,
			"attempts": n.Attempts, "status_code": n.StatusCode}
		switch n.State {
		case LogoutSent:
			return s.audit(ctx, tx, Actor{}, n.OrgID, AuditOIDCLogoutSent, "account", n.AccountID, nil, after)
		case LogoutFailed:
			after["error"] = n.LastError
			return s.audit(ctx, tx, Actor{}, n.OrgID, AuditOIDCLogoutFailed, "account", n.AccountID, nil, after)
		}
		return nil
	})
}

// OIDCLogoutNotices lists the person's logout notices, oldest first. Operators
// only.
func (s *Service) OIDCLogoutNotices(ctx context.Context, actor Actor, accountID string) (ns []OIDCLogoutNotice, err error) {
	if err := requireOperator(actor, "reads logout notices"); err != nil {
		return nil, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		ns, err = tx.OIDCLogoutNotices(ctx, accountID)
		return err
	})
	return ns, err
}
