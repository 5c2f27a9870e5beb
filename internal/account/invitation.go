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
