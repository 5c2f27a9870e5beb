package account

import "context"

// AuditQuery pages through an organization's audit events, newest first.
type AuditQuery struct {
	Cursor string
	Limit  int
}

// FindAuditEvents lists an organization's audit trail. Needs audit.read.
func (s *Service) FindAuditEvents(ctx context.Context, actor Actor, orgRef string, q AuditQuery) (p Page[AuditEvent], err error) {
	defer wrap(&err, "FindAuditEvents(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermAuditRead, func(tx Tx, a access) error {
		limit, errL := pageLimit(q.Limit)
		cur, errC := decodeCursor(q.Cursor)
		if err := collect(errL, errC); err != nil {
			return err
		}
		return s.auditPage(ctx, tx, a.org.ID, cur.after, limit, &p)
	})
	return p, err
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
