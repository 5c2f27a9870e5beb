package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"roster.dev/roster/internal/account"
)

var _ account.BulkTx = (*tx)(nil)

// Bulk reads and writes, for imports. Each write stores exactly the columns and values
// of its single-row counterpart (CreateAccount, CreateMembership, …), with multi-row
// INSERTs of at most maxBulkParams parameters; each lookup asks for at most
// lookupChunk keys per query. Any violation fails the whole call; rows of the chunks
// written before it stay, so the caller runs the call in a Savepoint to undo them.

// maxBulkParams bounds the parameters of one bulk statement: far below SQLite's 32766
// and PostgreSQL's 65535, and large enough that a statement costs little more than
// its rows.
const maxBulkParams = 4000

// lookupChunk is how many keys one query of a bulk lookup takes.
const lookupChunk = 500

// bulkArgs collects the arguments of a bulk statement. On PostgreSQL its placeholders
// are $N; on SQLite they are "?", bound in the order they appear: SQLite resolves
// every $N by a linear search of the statement's parameter names (sqlite3VListNumToName
// and its inverse, when preparing and again when binding), which makes a statement of
// thousands of numbered parameters quadratic to prepare. A "?" costs nothing, so the
// values must be added in the order their placeholders appear in the statement.
type bulkArgs struct {
	args     args
	numbered bool
}

func newBulkArgs(engine Engine) *bulkArgs { return &bulkArgs{numbered: engine.numbered()} }

// add appends v and returns its placeholder.
func (b *bulkArgs) add(v any) string {
	ph := b.args.add(v)
	if b.numbered {
		return ph
	}
	return "?"
}

// row appends vals and returns their placeholders as one row of a VALUES list.
func (b *bulkArgs) row(vals ...any) string {
	var sb strings.Builder
	sb.Grow(len(vals) * 6)
	sb.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(b.add(v))
	}
	sb.WriteByte(')')
	return sb.String()
}

// list appends vals and returns their placeholders, comma-separated, for IN (…).
func (b *bulkArgs) list(vals []string) string {
	var sb strings.Builder
	sb.Grow(len(vals) * 6)
	for i, v := range vals {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(b.add(v))
	}
	return sb.String()
}

// bulkInsert runs stmt over n rows in chunks of at most maxBulkParams parameters
// (params per row). stmt builds the statement of one chunk from its VALUES rows (it may
// add parameters after them); row builds row i with b.row. It returns how many rows the
// chunks that succeeded wrote, and the driver's error (untranslated) of the one that
// failed.
func (t *tx) bulkInsert(ctx context.Context, n, params int,
	stmt func(b *bulkArgs, values string) string, row func(b *bulkArgs, i int) string,
) (int, error) {
	per := max(1, maxBulkParams/params)
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		b := newBulkArgs(t.engine)
		b.args = make(args, 0, (end-start)*params+1)
		var values strings.Builder
		for i := start; i < end; i++ {
			if i > start {
				values.WriteString(",\n")
			}
			values.WriteString(row(b, i))
		}
		if _, err := t.q.ExecContext(ctx, stmt(b, values.String()), b.args...); err != nil {
			return start, err
		}
	}
	return n, nil
}

// lookup runs query over keys in chunks of lookupChunk keys (duplicates dropped, so
// that no row comes back twice), scanning each row with scan. query builds the
// statement of one chunk, adding its keys with b.list where the IN list goes.
func (t *tx) lookup(ctx context.Context, keys []string, query func(b *bulkArgs, keys []string) string,
	scan func(rows *sql.Rows) error,
) error {
	keys = uniqueStrings(keys)
	// A bulk lookup's texts vary with the size of the last chunk: they would crowd the
	// readers' statement cache out of the queries that repeat.
	q := t.q
	if c, ok := t.inner().(cachedQuerier); ok {
		q = t.bounded(c.plain())
	}
	for start := 0; start < len(keys); start += lookupChunk {
		b := newBulkArgs(t.engine)
		text := query(b, keys[start:min(start+lookupChunk, len(keys))])
		rows, err := q.QueryContext(ctx, text, b.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// uniqueStrings returns ss without its repeated values, in order of first appearance.
func uniqueStrings(ss []string) []string {
	seen := make(map[string]struct{}, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if _, ok := seen[s]; !ok {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	return out
}

// AccountsByEmails returns the accounts whose email_key is one of emailKeys, in no
// particular order; keys of no account are simply absent.
func (t *tx) AccountsByEmails(ctx context.Context, emailKeys []string) ([]account.Account, error) {
	out := []account.Account{}
	err := t.lookup(ctx, emailKeys, func(b *bulkArgs, keys []string) string {
		return `SELECT ` + accountColumns + ` FROM accounts a WHERE a.email_key IN (` + b.list(keys) + `)`
	}, func(rows *sql.Rows) error {
		var a account.Account
		if err := rows.Scan(accountDest(&a)...); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MembershipsOfAccounts returns the memberships of orgID held by any of accountIDs, in
// no particular order.
func (t *tx) MembershipsOfAccounts(ctx context.Context, orgID string, accountIDs []string) ([]account.Membership, error) {
	out := []account.Membership{}
	err := t.lookup(ctx, accountIDs, func(b *bulkArgs, ids []string) string {
		return `SELECT ` + membershipColumns + ` FROM memberships m
			WHERE m.org_id = ` + b.add(orgID) + ` AND m.account_id IN (` + b.list(ids) + `)`
	}, func(rows *sql.Rows) error {
		var m account.Membership
		if err := rows.Scan(membershipDest(&m)...); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateAccounts inserts as, as CreateAccount would one by one. A taken (or repeated)
// email or username is an ECONFLICT naming the field.
func (t *tx) CreateAccounts(ctx context.Context, as []account.Account) error {
	_, err := t.bulkInsert(ctx, len(as), 16, func(_ *bulkArgs, values string) string {
		return `INSERT INTO accounts (id, email, email_key, username, username_key, first_name, last_name,
			phone, state, must_reset_password, operator, password_hash, managed_by, email_verified,
			created_at, updated_at)
		VALUES ` + values
	}, func(b *bulkArgs, i int) string {
		a := &as[i]
		return b.row(a.ID, a.Email, account.EmailKey(a.Email), nullString(a.Username), usernameKey(a.Username),
			a.FirstName, a.LastName, a.Phone, string(a.State), a.MustResetPassword, a.Operator,
			a.PasswordHash, nullString(a.ManagedBy), a.EmailVerified, ts(a.CreatedAt), ts(a.UpdatedAt))
	})
	return translate(err, "account")
}

// CreateMemberships inserts ms, as CreateMembership would one by one; accounts[i] is
// the account of ms[i], whose search text it stores. An existing membership is an
// ECONFLICT naming "account"; an unknown organization, account or role is ENOTFOUND.
func (t *tx) CreateMemberships(ctx context.Context, ms []account.Membership, accounts []account.Account) error {
	if len(accounts) != len(ms) {
		return fmt.Errorf("sqlstore: CreateMemberships: %d memberships but %d accounts", len(ms), len(accounts))
	}
	for i := range ms {
		if ms[i].AccountID != accounts[i].ID {
			return fmt.Errorf("sqlstore: CreateMemberships: membership %d is of account %s, not %s",
				i, ms[i].AccountID, accounts[i].ID)
		}
	}
	orgs := map[string]account.Organization{}
	for _, m := range ms {
		if _, ok := orgs[m.OrgID]; ok {
			continue
		}
		org := account.Organization{ID: m.OrgID}
		err := t.q.QueryRowContext(ctx, `SELECT COALESCE(parent_id, '') FROM organizations WHERE id = $1`, m.OrgID).
			Scan(&org.ParentID)
		if err != nil {
			return translate(err, "organization")
		}
		orgs[m.OrgID] = org
	}
	_, err := t.bulkInsert(ctx, len(ms), 7, func(_ *bulkArgs, values string) string {
		return `INSERT INTO memberships (org_id, account_id, role_id, state, search, created_at, updated_at)
		VALUES ` + values
	}, func(b *bulkArgs, i int) string {
		m := &ms[i]
		return b.row(m.OrgID, m.AccountID, m.RoleID, string(m.State), memberSearch(orgs[m.OrgID], m.State, accounts[i]),
			ts(m.CreatedAt), ts(m.UpdatedAt))
	})
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "organization, account or role not found")
	}
	return translate(err, "member")
}

// AddTeamMembers puts each member's account in its team, as SetMemberTeams does (the
// rows carry orgID). Members of teams that are not orgID's are ignored. A member
// already in the team (or listed twice) is an ECONFLICT naming "team"; an account
// that is not a member of orgID is ENOTFOUND.
func (t *tx) AddTeamMembers(ctx context.Context, orgID string, members []account.TeamMember) error {
	// The VALUES rows are (team id, account id), named column1 and column2 on both
	// engines; the organization's placeholder follows them, in the order of the text.
	_, err := t.bulkInsert(ctx, len(members), 2, func(b *bulkArgs, values string) string {
		return `INSERT INTO team_members (team_id, org_id, account_id)
		SELECT te.id, te.org_id, v.column2
		FROM (VALUES ` + values + `) AS v
		JOIN teams te ON te.id = v.column1 AND te.org_id = ` + b.add(orgID)
	}, func(b *bulkArgs, i int) string {
		if i == 0 {
			// PostgreSQL types the VALUES columns by their first row.
			return "(" + t.engine.textArg(b.add(members[i].TeamID)) + ", " + t.engine.textArg(b.add(members[i].AccountID)) + ")"
		}
		return b.row(members[i].TeamID, members[i].AccountID)
	})
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "member not found")
	}
	return translate(err, "team member")
}

// CreateInvitations inserts invs, as CreateInvitation would one by one. A second
// pending invitation of one membership is an ECONFLICT naming "email"; an unknown
// organization or account is ENOTFOUND.
func (t *tx) CreateInvitations(ctx context.Context, invs []account.Invitation) error {
	_, err := t.bulkInsert(ctx, len(invs), 13, func(_ *bulkArgs, values string) string {
		return `INSERT INTO invitations (id, org_id, account_id, email, role_id, token_hash, state,
			inviter_id, inviter_name, expires_at, created_at, updated_at, accepted_at)
		VALUES ` + values
	}, func(b *bulkArgs, i int) string {
		inv := &invs[i]
		return b.row(inv.ID, inv.OrgID, inv.AccountID, inv.Email, inv.RoleID, inv.TokenHash, string(inv.State),
			inv.InviterID, inv.InviterName, ts(inv.ExpiresAt), ts(inv.CreatedAt), ts(inv.UpdatedAt),
			nullTime(inv.AcceptedAt))
	})
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "organization or account not found")
	}
	return translate(err, "invitation")
}

// EnqueueEmails writes es to the outbox, as EnqueueEmail would one by one; the DB's
// OnEmail hook runs after the commit when it wrote any.
func (t *tx) EnqueueEmails(ctx context.Context, es []account.Email) error {
	n, err := t.bulkInsert(ctx, len(es), 10, func(_ *bulkArgs, values string) string {
		return `INSERT INTO outbox (id, org_id, kind, to_addr, subject, text_body, html_body, secret, state, next_at, created_at)
		VALUES ` + values
	}, func(b *bulkArgs, i int) string {
		e := &es[i]
		return b.row(e.ID, e.OrgID, e.Kind, e.To, e.Subject, e.Text, e.HTML, e.Secret, string(account.OutboxPending),
			ts(e.CreatedAt), ts(e.CreatedAt))
	})
	t.enqueued = t.enqueued || n > 0
	return translate(err, "outbox message")
}

// InsertAudits appends es to the audit trail, as InsertAudit would one by one.
func (t *tx) InsertAudits(ctx context.Context, es []account.AuditEvent) error {
	_, err := t.bulkInsert(ctx, len(es), 11, func(_ *bulkArgs, values string) string {
		return `INSERT INTO audit_events (id, org_id, actor_id, actor_email, action, target_type, target_id,
			before_json, after_json, ip, created_at)
		VALUES ` + values
	}, func(b *bulkArgs, i int) string {
		e := &es[i]
		return b.row(e.ID, e.OrgID, e.ActorID, e.ActorEmail, e.Action, e.TargetType, e.TargetID,
			jsonText(e.Before), jsonText(e.After), e.IP, ts(e.CreatedAt))
	})
	return translate(err, "audit event")
}
