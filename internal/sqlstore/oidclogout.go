package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.OIDCLogoutTx = (*tx)(nil)

// OnLogout sets a function called after a write that queued logout notices
// commits (serve wakes the logout worker with it). It must not block.
func (db *DB) OnLogout(fn func()) { db.onLogout.Store(&fn) }

// LiveOIDCGrants lists the person's sign-ins with a token in force, in orgID ("":
// every organization), with their clients' back-channel logout URIs.
func (t *tx) LiveOIDCGrants(ctx context.Context, accountID, orgID string, now time.Time) ([]account.OIDCLiveGrant, error) {
	var a args
	acct, at := a.add(accountID), a.add(ts(now))
	scope := ""
	if orgID != "" {
		scope = ` AND organization_id = ` + a.add(orgID)
	}
	rows, err := t.q.QueryContext(ctx, `
		SELECT DISTINCT g.application_id, g.organization_id, g.auth_request_id, COALESCE(c.backchannel_logout_uri, '')
		FROM (SELECT application_id, organization_id, auth_request_id FROM oidc_refresh_tokens
				WHERE account_id = `+acct+scope+` AND state = 'active' AND expires_at > `+at+`
			UNION
			SELECT application_id, organization_id, auth_request_id FROM oidc_access_tokens
				WHERE account_id = `+acct+scope+` AND NOT revoked AND expires_at > `+at+`) g
		LEFT JOIN oidc_clients c ON c.application_id = g.application_id
		ORDER BY g.application_id, g.auth_request_id`, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.OIDCLiveGrant
	for rows.Next() {
		g := account.OIDCLiveGrant{AccountID: accountID}
		if err := rows.Scan(&g.ApplicationID, &g.OrgID, &g.AuthRequestID, &g.LogoutURI); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// LiveOIDCGrantsInOrganization lists the sign-ins through orgID with a token in
// force at now, of every person (read once, before the organization is deleted).
func (t *tx) LiveOIDCGrantsInOrganization(ctx context.Context, orgID string, now time.Time) ([]account.OIDCLiveGrant, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT DISTINCT g.account_id, g.application_id, g.auth_request_id, COALESCE(c.backchannel_logout_uri, '')
		FROM (SELECT account_id, application_id, auth_request_id FROM oidc_refresh_tokens
				WHERE organization_id = $1 AND state = 'active' AND expires_at > $2
			UNION
			SELECT account_id, application_id, auth_request_id FROM oidc_access_tokens
				WHERE organization_id = $1 AND NOT revoked AND expires_at > $2) g
		LEFT JOIN oidc_clients c ON c.application_id = g.application_id
		ORDER BY g.account_id, g.application_id, g.auth_request_id`, orgID, ts(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.OIDCLiveGrant
	for rows.Next() {
		g := account.OIDCLiveGrant{OrgID: orgID}
		if err := rows.Scan(&g.AccountID, &g.ApplicationID, &g.AuthRequestID, &g.LogoutURI); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// RevokeOIDCGrantsOfAccount revokes the person's refresh and access tokens of every
// application, in orgID ("": every organization).
func (t *tx) RevokeOIDCGrantsOfAccount(ctx context.Context, accountID, orgID string) error {
	var a args
	acct := a.add(accountID)
	scope := ""
	if orgID != "" {
		scope = ` AND organization_id = ` + a.add(orgID)
	}
	if _, err := t.q.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET state = 'revoked'
		WHERE account_id = `+acct+scope+` AND state <> 'revoked'`, a...); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked = TRUE
		WHERE account_id = `+acct+scope+` AND NOT revoked`, a...)
	return err
}

// InsertOIDCLogoutNotice queues a logout notice.
func (t *tx) InsertOIDCLogoutNotice(ctx context.Context, n account.OIDCLogoutNotice) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO oidc_logout_notices (id, application_id, account_id, organization_id, sid, reason, state,
			next_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		n.ID, n.ApplicationID, n.AccountID, n.OrgID, n.SID, n.Reason, string(n.State), ts(n.NextAt),
		ts(n.CreatedAt), ts(n.UpdatedAt))
	if err == nil {
		t.loggedOut = true
	}
	return translate(err, "logout notice")
}

const logoutColumns = `n.id, n.application_id, n.account_id, n.organization_id, n.sid, n.reason, n.state,
	n.attempts, n.status_code, n.last_error, n.next_at, n.created_at, n.updated_at`

func scanLogout(sc interface{ Scan(...any) error }, extra ...any) (account.OIDCLogoutNotice, error) {
	var n account.OIDCLogoutNotice
	var state string
	err := sc.Scan(append([]any{&n.ID, &n.ApplicationID, &n.AccountID, &n.OrgID, &n.SID, &n.Reason, &state,
		&n.Attempts, &n.StatusCode, &n.LastError, scanTime{&n.NextAt}, scanTime{&n.CreatedAt}, scanTime{&n.UpdatedAt}},
		extra...)...)
	n.State = account.LogoutState(state)
	return n, translate(err, "logout notice")
}

// ClaimOIDCLogouts claims up to n due pending notices (no claim, or an expired
// one) for lease, as owner, counting the attempt. A notice whose client has no
// back-channel logout URI any more is claimed with an empty URI (the worker gives
// it up).
func (t *tx) ClaimOIDCLogouts(ctx context.Context, owner string, now time.Time, n int, lease time.Duration) ([]account.OIDCLogoutJob, error) {
	if n <= 0 {
		return nil, nil
	}
	var a args
	at := a.add(ts(now))
	until, by := a.add(ts(now.Add(lease))), a.add(owner)
	rows, err := t.q.QueryContext(ctx, `
		UPDATE oidc_logout_notices SET claimed_until = `+until+`, claimed_by = `+by+`, attempts = attempts + 1
		WHERE id IN (SELECT q.id FROM oidc_logout_notices q
			WHERE q.state = 'pending' AND q.next_at <= `+at+` AND (q.claimed_until IS NULL OR q.claimed_until < `+at+`)
			ORDER BY q.next_at, q.id`+limit(&a, n)+t.engine.skipLocked()+`)
		RETURNING id`, a...)
	if err != nil {
		return nil, err
	}
	ids, err := scanStrings(rows)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var b args
	rows, err = t.q.QueryContext(ctx, `
		SELECT `+logoutColumns+`, COALESCE(c.backchannel_logout_uri, '')
		FROM oidc_logout_notices n LEFT JOIN oidc_clients c ON c.application_id = n.application_id
		WHERE n.id IN (`+b.list(ids)+`) ORDER BY n.next_at, n.id`, b...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.OIDCLogoutJob
	for rows.Next() {
		var j account.OIDCLogoutJob
		if j.Notice, err = scanLogout(rows, &j.URI); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// CompleteOIDCLogout records an attempt of a notice owner claimed: sent, due
// again at o.NextAt, or failed; the claim is let go.
func (t *tx) CompleteOIDCLogout(ctx context.Context, owner, id string, now time.Time, o account.OIDCLogoutOutcome) (account.OIDCLogoutNotice, error) {
	state, next := account.LogoutFailed, now
	switch {
	case o.Sent:
		state = account.LogoutSent
	case !o.NextAt.IsZero():
		state, next = account.LogoutPending, o.NextAt
	}
	return scanLogout(t.q.QueryRowContext(ctx, `
		UPDATE oidc_logout_notices SET state = $3, next_at = $4, status_code = $5, last_error = $6,
			claimed_until = NULL, updated_at = $7
		WHERE id = $1 AND claimed_by = $2 AND state = 'pending'
		RETURNING id, application_id, account_id, organization_id, sid, reason, state, attempts, status_code,
			last_error, next_at, created_at, updated_at`,
		id, owner, string(state), ts(next), o.StatusCode, o.Error, ts(now)))
}

// OIDCLogoutNotices lists the person's notices, oldest first.
func (t *tx) OIDCLogoutNotices(ctx context.Context, accountID string) ([]account.OIDCLogoutNotice, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+logoutColumns+` FROM oidc_logout_notices n
		WHERE n.account_id = $1 ORDER BY n.created_at, n.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.OIDCLogoutNotice{}
	for rows.Next() {
		n, err := scanLogout(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
