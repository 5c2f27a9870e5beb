package account

import "time"

// JoinRequestState is the life cycle of a join request.
type JoinRequestState string

const (
	JoinRequestPending  JoinRequestState = "pending"
	JoinRequestApproved JoinRequestState = "approved"
	JoinRequestDenied   JoinRequestState = "denied"
	// JoinRequestCancelled: the requester withdrew it before anyone decided.
	JoinRequestCancelled JoinRequestState = "cancelled"
)

// JoinRequest is an account asking to join an organization. Approving it invites
// the account; denying it changes nothing else.
type JoinRequest struct {
	ID        string
	OrgID     string
	AccountID string
	Account   Account // the requester, filled by reads
	// Organization is the organization asked to join, filled by
	// JoinRequestsOfAccount (the requester's own list).
	Organization Organization
	Message      string
	State        JoinRequestState
	DecidedBy    string // the account that approved, denied or cancelled it
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
