package account

import "time"

// Email is one message written to the outbox in the same transaction as the change
// that causes it, and delivered later by the outbox worker.
type Email struct {
	ID      string
	OrgID   string // the organization it concerns, or empty
	Kind    string // e.g. "invitation", "seat.assigned": for filtering and metrics
	To      string // one address
	Subject string
	Text    string // the plain-text part
	HTML    string // the HTML part
	// CreatedAt is when it was written; the worker delivers it from then on.
	CreatedAt time.Time
}

// OutboxState is the delivery state of an outbox message.
type OutboxState string

const (
	OutboxPending OutboxState = "pending" // waiting for its next attempt
	OutboxSent    OutboxState = "sent"
	OutboxFailed  OutboxState = "failed" // gave up after the last attempt
)

// OutboxMessage is an Email with its delivery state.
type OutboxMessage struct {
	Email
	State     OutboxState
	Attempts  int
	NextAt    time.Time // when the next attempt may start
	LastError string
	SentAt    time.Time
}
