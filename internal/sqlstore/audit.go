package sqlstore

import (
	"context"

	"roster.dev/roster/internal/account"
)

var _ account.AuditTx = (*tx)(nil)

// auditColumns are the columns of an audit event, read through the alias e, in the
// order auditDest scans them.
const auditColumns = `e.id, e.org_id, e.actor_id, e.actor_email, e.action, e.target_type, e.target_id,
	e.before_json, e.after_json, e.ip, e.created_at`

// auditDest returns the scan destinations of auditColumns.
func auditDest(e *account.AuditEvent) []any {
	return []any{&e.ID, &e.OrgID, &e.ActorID, &e.ActorEmail, &e.Action, &e.TargetType, &e.TargetID,
		scanJSON{&e.Before}, scanJSON{&e.After}, &e.IP, scanTime{&e.CreatedAt}}
}

// jsonText passes a JSON document as text, nil as SQL NULL.
func jsonText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// scanJSON scans a nullable JSON text column into bytes, NULL becoming nil.
type scanJSON struct{ b *[]byte }

func (s scanJSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.b = nil
		return nil
	case []byte:
		*s.b = append([]byte(nil), v...)
		return nil
	}
	var text string
	if err := (scanNullString{&text}).Scan(src); err != nil {
		return err
	}
	*s.b = []byte(text)
	return nil
}

// InsertAudit appends e to the audit trail.
func (t *tx) InsertAudit(ctx context.Context, e account.AuditEvent) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO audit_events (id, org_id, actor_id, actor_email, action, target_type, target_id,
			before_json, after_json, ip, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, e.OrgID, e.ActorID, e.ActorEmail, e.Action, e.TargetType, e.TargetID,
		jsonText(e.Before), jsonText(e.After), e.IP, ts(e.CreatedAt))
	return translate(err, "audit event")
}

// FindAudit returns one page of an organization's events (platform events when
// f.OrgID is empty), newest first.
func (t *tx) FindAudit(ctx context.Context, f account.AuditFilter) ([]account.AuditEvent, error) {
	var a args
	conds := []string{`e.org_id = ` + a.add(f.OrgID)}
	if f.Before != "" {
		conds = append(conds, `e.id < `+a.add(f.Before))
	}
	rows, err := t.q.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events e`+where(conds)+
		` ORDER BY e.id DESC`+limit(&a, f.Limit), a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.AuditEvent{}
	for rows.Next() {
		var e account.AuditEvent
		if err := rows.Scan(auditDest(&e)...); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountAudit counts an organization's events (platform events when orgID is empty).
func (t *tx) CountAudit(ctx context.Context, orgID string) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events e WHERE e.org_id = $1`, orgID).Scan(&n)
	return n, err
}
