package account

import (
	"context"
	"time"
)

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
	// Secret is the one-time token the message's link carries, or empty. The outbox
	// keeps it only until the message is sent or fails for good: then it replaces
	// every occurrence in Text and HTML by Redacted, in the statement that marks the
	// message, so the database never holds a live link of a delivered email.
	Secret string
	// CreatedAt is when it was written; the worker delivers it from then on.
	CreatedAt time.Time
}

// Redacted replaces the secret of a sent or failed message in its stored text.
const Redacted = "[redacted]"

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
	// Scrubbed tells that the message's secret was replaced by Redacted: it was sent.
	Scrubbed bool
}

// OutboxFilter selects outbox messages, newest first.
type OutboxFilter struct {
	State  OutboxState // empty: every state
	Before string      // keyset: id < Before
	Limit  int
}

// OutboxQuery pages through the outbox.
type OutboxQuery struct {
	State, Cursor string
	Limit         int
}

// OutboxCounts is how many messages the outbox holds in each state.
type OutboxCounts map[OutboxState]int

// FindOutbox lists the outbox's messages, newest first, with the counts of every
// state; the page's total is the number in the state asked (or all). Operators
// only. Errors: EFORBIDDEN, EINVALID.
func (s *Service) FindOutbox(ctx context.Context, actor Actor, q OutboxQuery) (p Page[OutboxMessage], counts OutboxCounts, err error) {
	defer wrap(&err, "FindOutbox")
	if err := requireOperator(actor, "reads the outbox"); err != nil {
		return p, nil, err
	}
	limit, cur, err := listParams(q.Limit, q.Cursor, "state", q.State, string(OutboxPending), string(OutboxSent), string(OutboxFailed))
	if err != nil {
		return p, nil, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		c, err := tx.CountEmails(ctx)
		if err != nil {
			return err
		}
		counts = c
		total := c[OutboxState(q.State)]
		if q.State == "" {
			total = c[OutboxPending] + c[OutboxSent] + c[OutboxFailed]
		}
		items, err := tx.FindEmails(ctx, OutboxFilter{State: OutboxState(q.State), Before: cur.after, Limit: limit + 1})
		p = pageOf(items, total, limit, func(m OutboxMessage) string { return m.ID })
		return err
	})
	return p, counts, err
}

// RetryEmail sends a failed message again: it goes back to pending, due now, with
// its attempts reset. Operators only. Errors: EFORBIDDEN, ENOTFOUND (no such
// message, or it has not failed).
func (s *Service) RetryEmail(ctx context.Context, actor Actor, id string) (err error) {
	defer wrap(&err, "RetryEmail(%s)", id)
	if err := requireOperator(actor, "retries outbox messages"); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		if err := tx.RetryEmail(ctx, id, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditEmailRetried, "email", id, nil, nil)
	})
}
