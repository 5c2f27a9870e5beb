package account

import "time"

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
