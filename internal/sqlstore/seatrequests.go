package sqlstore

import (
	"context"

	"roster.dev/roster/internal/account"
)

var _ account.SeatRequestTx = (*tx)(nil)

const seatRequestColumns = `r.id, r.org_id, r.application_id, p.key, r.quantity, r.note, r.status, r.requested_by,
	r.requester_email, r.decided_by, r.approved_seats, r.subscription_id, r.created_at, r.decided_at, ` + organizationColumns

const seatRequestFrom = ` FROM seat_requests r JOIN applications p ON p.id = r.application_id
	JOIN organizations o ON o.id = r.org_id`

func seatRequestDest(r *account.SeatRequest) []any {
	return append([]any{&r.ID, &r.OrgID, &r.ApplicationID, &r.ApplicationKey, &r.Quantity, &r.Note, &r.Status,
		&r.RequestedBy, &r.RequesterEmail, &r.DecidedBy, &r.ApprovedSeats, &r.SubscriptionID,
		scanTime{&r.CreatedAt}, scanTime{&r.DecidedAt}}, organizationDest(&r.Organization)...)
}

// CreateSeatRequest inserts a pending request.
func (t *tx) CreateSeatRequest(ctx context.Context, r account.SeatRequest) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO seat_requests (id, org_id, application_id, quantity, note, status, requested_by,
			requester_email, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.ID, r.OrgID, r.ApplicationID, r.Quantity, r.Note, string(r.Status), r.RequestedBy, r.RequesterEmail, ts(r.CreatedAt))
	return translate(err, "seat request")
}

// SeatRequest returns one request, or ENOTFOUND.
func (t *tx) SeatRequest(ctx context.Context, id string) (account.SeatRequest, error) {
	var r account.SeatRequest
	err := t.q.QueryRowContext(ctx, `SELECT `+seatRequestColumns+seatRequestFrom+` WHERE r.id = $1`, id).
		Scan(seatRequestDest(&r)...)
	return r, translate(err, "seat request")
}

// UpdateSeatRequest records the decision of a request that is still pending; one
// decided meanwhile (by a concurrent transaction) is ECONFLICT.
func (t *tx) UpdateSeatRequest(ctx context.Context, r account.SeatRequest) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE seat_requests SET status = $2, decided_by = $3, approved_seats = $4, subscription_id = $5, decided_at = $6
		WHERE id = $1 AND status = 'pending'`,
		r.ID, string(r.Status), r.DecidedBy, r.ApprovedSeats, r.SubscriptionID, ts(r.DecidedAt))
	if err := affected(res, err, "seat request"); err != nil {
		if account.ErrorCode(err) == account.ENOTFOUND {
			return account.Errorf(account.ECONFLICT, "the seat request was decided meanwhile")
		}
		return err
	}
	return nil
}

// FindSeatRequests returns a page of requests, newest first, and how many match.
func (t *tx) FindSeatRequests(ctx context.Context, f account.SeatRequestFilter) ([]account.SeatRequest, int, error) {
	var a args
	var conds []string
	if f.OrgID != "" {
		conds = append(conds, `r.org_id = `+a.add(f.OrgID))
	}
	if f.Status != "" {
		conds = append(conds, `r.status = `+a.add(string(f.Status)))
	}
	var total int
	if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM seat_requests r`+where(conds), a...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.Before != "" {
		conds = append(conds, `r.id < `+a.add(f.Before))
	}
	rows, err := t.q.QueryContext(ctx, `SELECT `+seatRequestColumns+seatRequestFrom+where(conds)+
		` ORDER BY r.id DESC`+limit(&a, f.Limit), a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []account.SeatRequest{}
	for rows.Next() {
		var r account.SeatRequest
		if err := rows.Scan(seatRequestDest(&r)...); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}
