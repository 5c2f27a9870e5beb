package account

import "time"

// InvitationState is the life cycle of an invitation. Only pending, accepted and
// cancelled are stored; a pending invitation past its expiry reads as expired.
type InvitationState string

const (
	InvitationPending   InvitationState = "pending"
	InvitationAccepted  InvitationState = "accepted"
	InvitationExpired   InvitationState = "expired"
	InvitationCancelled InvitationState = "cancelled"
)

// Invitation asks one person to join an organization. While it is pending the
// person's membership is "invited", holding the role, teams and seats they will have;
// accepting it makes the membership active. The secret token is stored only as its
// SHA-256; resending replaces it, so the old link stops working.
type Invitation struct {
	ID          string
	OrgID       string
	AccountID   string
	Email       string // the invitee's email when invited
	RoleID      string // the role offered (the membership's role when invited)
	TokenHash   []byte
	State       InvitationState // as stored: pending, accepted or cancelled
	InviterID   string          // the account that sent it (or last resent it)
	InviterName string          // kept, as the inviter may later be deleted
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	AcceptedAt  time.Time // zero unless accepted
}

// StateAt is the invitation's state at now: a pending invitation past its expiry is
// expired.
func (i Invitation) StateAt(now time.Time) InvitationState {
	if i.State == InvitationPending && !now.Before(i.ExpiresAt) {
		return InvitationExpired
	}
	return i.State
}

// InvitationFilter selects an organization's invitations, newest first. State
// pending means unexpired pending ones and expired the pending ones past Now.
type InvitationFilter struct {
	OrgID     string
	State     InvitationState
	Now       time.Time
	Before    string // keyset: invitations with id < Before
	Limit     int
	SkipTotal bool // FindInvitations then returns -1 for the total
}

// JoinRequestState is the life cycle of a join request.
type JoinRequestState string

const (
	JoinRequestPending  JoinRequestState = "pending"
	JoinRequestApproved JoinRequestState = "approved"
	JoinRequestDenied   JoinRequestState = "denied"
)

// JoinRequest is an account asking to join an organization. Approving it invites
// the account; denying it changes nothing else.
type JoinRequest struct {
	ID           string
	OrgID        string
	AccountID    string
	Account      Account // the requester, filled by reads
	Message      string
	State        JoinRequestState
	DecidedBy    string // the account that approved or denied it
	DecidedAt    time.Time
	InvitationID string // the invitation an approval sent
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// JoinRequestFilter selects an organization's join requests, newest first.
type JoinRequestFilter struct {
	OrgID     string
	State     JoinRequestState
	Before    string // keyset: requests with id < Before
	Limit     int
	SkipTotal bool
}

// Kinds of one-time account tokens.
const (
	TokenVerifyEmail   = "verify-email"   // sign-up: proves the email, then creates the account
	TokenPasswordReset = "password-reset" // sets a new password
	TokenDevice        = "device"         // a client that logged in to the account (not single-use)
)

// AccountToken is a single-use secret sent by email: a sign-up's verification (which
// carries the sign-up in Data until the email is proven) or a password reset. Only
// its SHA-256 is stored.
type AccountToken struct {
	Hash      []byte
	Kind      string
	AccountID string // password reset: the account; sign-up: empty
	Email     string
	Data      []byte // sign-up: the pending account as JSON
	ExpiresAt time.Time
	CreatedAt time.Time
}
