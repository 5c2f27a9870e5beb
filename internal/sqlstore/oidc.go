package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.OIDCTx = (*tx)(nil)

func splitLines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func splitScopes(s string) []string { return strings.Fields(s) }

const oidcClientColumns = `c.application_id, c.client_id, c.secret_hash, c.redirect_uris, c.post_logout_redirect_uris,
	c.backchannel_logout_uri, c.public, c.require_seat, c.created_at, c.updated_at`

// OIDCClient returns the application's client.
func (t *tx) OIDCClient(ctx context.Context, applicationID string) (account.OIDCClient, error) {
	var c account.OIDCClient
	var redirects, logouts string
	err := t.q.QueryRowContext(ctx, `SELECT `+oidcClientColumns+` FROM oidc_clients c WHERE c.application_id = $1`, applicationID).
		Scan(&c.ApplicationID, &c.ClientID, &c.SecretHash, &redirects, &logouts, &c.BackchannelLogoutURI, &c.Public, &c.RequireSeat,
			scanTime{&c.CreatedAt}, scanTime{&c.UpdatedAt})
	c.RedirectURIs, c.PostLogoutRedirectURIs = splitLines(redirects), splitLines(logouts)
	return c, translate(err, "sign-in client")
}

// PutOIDCClient creates or replaces the application's client.
func (t *tx) PutOIDCClient(ctx context.Context, c account.OIDCClient) error {
	var secret any
	if len(c.SecretHash) > 0 {
		secret = c.SecretHash
	}
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO oidc_clients (application_id, client_id, secret_hash, redirect_uris, post_logout_redirect_uris,
			backchannel_logout_uri, public, require_seat, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (application_id) DO UPDATE SET secret_hash = excluded.secret_hash,
			redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris,
			backchannel_logout_uri = excluded.backchannel_logout_uri,
			public = excluded.public, require_seat = excluded.require_seat, updated_at = excluded.updated_at`,
		c.ApplicationID, c.ClientID, secret, strings.Join(c.RedirectURIs, "\n"), strings.Join(c.PostLogoutRedirectURIs, "\n"),
		c.BackchannelLogoutURI, c.Public, c.RequireSeat, ts(c.CreatedAt), ts(c.UpdatedAt))
	return translate(err, "sign-in client")
}

const authRequestColumns = `r.id, r.application_id, r.redirect_uri, r.scopes, r.state, r.nonce, r.response_type,
	r.response_mode, r.code_challenge, r.code_challenge_method, r.organization_hint, r.account_id, r.organization_id,
	r.auth_time, r.done, r.code_used, r.created_at, r.expires_at, r.prompt, r.max_age`

func scanAuthRequest(sc interface{ Scan(...any) error }) (account.OIDCAuthRequest, error) {
	var r account.OIDCAuthRequest
	var scopes, prompt string
	var maxAge sql.NullInt64
	err := sc.Scan(&r.ID, &r.ApplicationID, &r.RedirectURI, &scopes, &r.State, &r.Nonce, &r.ResponseType,
		&r.ResponseMode, &r.CodeChallenge, &r.CodeChallengeMethod, &r.OrganizationHint, scanNullString{&r.AccountID},
		scanNullString{&r.OrgID}, scanTime{&r.AuthTime}, &r.Done, &r.CodeUsed, scanTime{&r.CreatedAt}, scanTime{&r.ExpiresAt},
		&prompt, &maxAge)
	r.Scopes, r.Prompt = splitScopes(scopes), strings.Fields(prompt)
	if maxAge.Valid {
		d := time.Duration(maxAge.Int64) * time.Second
		r.MaxAge = &d
	}
	return r, translate(err, "sign-in request")
}

// CreateOIDCAuthRequest keeps a new authorization request.
func (t *tx) CreateOIDCAuthRequest(ctx context.Context, r account.OIDCAuthRequest) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO oidc_auth_requests (id, application_id, redirect_uri, scopes, state, nonce, response_type,
			response_mode, code_challenge, code_challenge_method, organization_hint, created_at, expires_at, prompt, max_age)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		r.ID, r.ApplicationID, r.RedirectURI, strings.Join(r.Scopes, " "), r.State, r.Nonce, r.ResponseType,
		r.ResponseMode, r.CodeChallenge, r.CodeChallengeMethod, r.OrganizationHint, ts(r.CreatedAt), ts(r.ExpiresAt),
		strings.Join(r.Prompt, " "), maxAgeSeconds(r.MaxAge))
	return translate(err, "sign-in request")
}

// maxAgeSeconds is a request's max_age for its column: whole seconds, or NULL.
func maxAgeSeconds(d *time.Duration) any {
	if d == nil {
		return nil
	}
	return int64(*d / time.Second)
}

// OIDCAuthRequest returns one request of the application.
func (t *tx) OIDCAuthRequest(ctx context.Context, applicationID, id string) (account.OIDCAuthRequest, error) {
	return scanAuthRequest(t.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+`
		FROM oidc_auth_requests r WHERE r.application_id = $1 AND r.id = $2`, applicationID, id))
}

// OIDCAuthRequestByID returns a request of any application by its id.
func (t *tx) OIDCAuthRequestByID(ctx context.Context, id string) (account.OIDCAuthRequest, error) {
	return scanAuthRequest(t.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+`
		FROM oidc_auth_requests r WHERE r.id = $1`, id))
}

// OIDCAuthRequestByCode returns the request whose code has this hash.
func (t *tx) OIDCAuthRequestByCode(ctx context.Context, hash []byte) (account.OIDCAuthRequest, error) {
	return scanAuthRequest(t.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+`
		FROM oidc_auth_requests r WHERE r.code_hash = $1`, hash))
}

// CompleteOIDCAuthRequest records who signed in, where and when.
func (t *tx) CompleteOIDCAuthRequest(ctx context.Context, applicationID, id, accountID, orgID string, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE oidc_auth_requests SET account_id = $3, organization_id = $4, auth_time = $5, done = TRUE
		WHERE application_id = $1 AND id = $2 AND NOT done`, applicationID, id, accountID, orgID, ts(at))
	return affected(res, err, "sign-in request")
}

// SetOIDCCode keeps the hash of a done request's code.
func (t *tx) SetOIDCCode(ctx context.Context, applicationID, id string, hash []byte, expires time.Time) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE oidc_auth_requests SET code_hash = $3, expires_at = $4
		WHERE application_id = $1 AND id = $2 AND done AND code_hash IS NULL`, applicationID, id, hash, ts(expires))
	return affected(res, err, "sign-in request")
}

// SpendOIDCCode marks the code used, once.
func (t *tx) SpendOIDCCode(ctx context.Context, applicationID, id string) (bool, error) {
	res, err := t.q.ExecContext(ctx, `
		UPDATE oidc_auth_requests SET code_used = TRUE
		WHERE application_id = $1 AND id = $2 AND NOT code_used AND code_hash IS NOT NULL`, applicationID, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteOIDCAuthRequest deletes a request of the application.
func (t *tx) DeleteOIDCAuthRequest(ctx context.Context, applicationID, id string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE application_id = $1 AND id = $2`, applicationID, id)
	return err
}

const accessTokenColumns = `a.id, a.application_id, a.organization_id, a.account_id, a.auth_request_id, a.family_id,
	a.scopes, a.revoked, a.created_at, a.expires_at`

// CreateOIDCAccessToken keeps an issued access token's row.
func (t *tx) CreateOIDCAccessToken(ctx context.Context, a account.OIDCAccessToken) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO oidc_access_tokens (id, application_id, organization_id, account_id, auth_request_id, family_id,
			scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.ID, a.ApplicationID, a.OrgID, a.AccountID, a.AuthRequestID, a.FamilyID, strings.Join(a.Scopes, " "),
		ts(a.CreatedAt), ts(a.ExpiresAt))
	return translate(err, "access token")
}

// OIDCAccessToken returns an access token's row by its id (the JWT's jti; the row
// names its application, which the caller compares with the client's).
func (t *tx) OIDCAccessToken(ctx context.Context, id string) (account.OIDCAccessToken, error) {
	var a account.OIDCAccessToken
	var scopes string
	err := t.q.QueryRowContext(ctx, `SELECT `+accessTokenColumns+` FROM oidc_access_tokens a WHERE a.id = $1`, id).
		Scan(&a.ID, &a.ApplicationID, &a.OrgID, &a.AccountID, &a.AuthRequestID, &a.FamilyID, &scopes, &a.Revoked,
			scanTime{&a.CreatedAt}, scanTime{&a.ExpiresAt})
	a.Scopes = splitScopes(scopes)
	return a, translate(err, "access token")
}

// RevokeOIDCAccessToken revokes one access token of the application.
func (t *tx) RevokeOIDCAccessToken(ctx context.Context, applicationID, id string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked = TRUE WHERE application_id = $1 AND id = $2`,
		applicationID, id)
	return err
}

// CreateOIDCRefreshToken keeps an issued refresh token's hash and grant.
func (t *tx) CreateOIDCRefreshToken(ctx context.Context, r account.OIDCRefreshToken) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO oidc_refresh_tokens (id, token_hash, family_id, application_id, organization_id, account_id,
			auth_request_id, scopes, auth_time, state, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.ID, r.Hash, r.FamilyID, r.ApplicationID, r.OrgID, r.AccountID, r.AuthRequestID, strings.Join(r.Scopes, " "),
		ts(r.AuthTime), string(r.State), ts(r.CreatedAt), ts(r.ExpiresAt))
	return translate(err, "refresh token")
}

// OIDCRefreshTokenByHash finds a refresh token, in any state, by its hash.
func (t *tx) OIDCRefreshTokenByHash(ctx context.Context, hash []byte) (account.OIDCRefreshToken, error) {
	var r account.OIDCRefreshToken
	var scopes, state string
	err := t.q.QueryRowContext(ctx, `
		SELECT f.id, f.token_hash, f.family_id, f.application_id, f.organization_id, f.account_id, f.auth_request_id,
			f.scopes, f.auth_time, f.state, f.created_at, f.expires_at
		FROM oidc_refresh_tokens f WHERE f.token_hash = $1`, hash).
		Scan(&r.ID, &r.Hash, &r.FamilyID, &r.ApplicationID, &r.OrgID, &r.AccountID, &r.AuthRequestID, &scopes,
			scanTime{&r.AuthTime}, &state, scanTime{&r.CreatedAt}, scanTime{&r.ExpiresAt})
	r.Scopes, r.State = splitScopes(scopes), account.RefreshState(state)
	return r, translate(err, "refresh token")
}

// SpendOIDCRefreshToken marks an active token of the application used, once.
func (t *tx) SpendOIDCRefreshToken(ctx context.Context, applicationID, id string, now time.Time) (bool, error) {
	res, err := t.q.ExecContext(ctx, `
		UPDATE oidc_refresh_tokens SET state = 'used', used_at = $3
		WHERE application_id = $1 AND id = $2 AND state = 'active'`, applicationID, id, ts(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RevokeOIDCFamily revokes a family's refresh and access tokens.
func (t *tx) RevokeOIDCFamily(ctx context.Context, applicationID, familyID string) error {
	if familyID == "" {
		return nil
	}
	if _, err := t.q.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET state = 'revoked'
		WHERE application_id = $1 AND family_id = $2 AND state <> 'revoked'`, applicationID, familyID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked = TRUE
		WHERE application_id = $1 AND family_id = $2 AND NOT revoked`, applicationID, familyID)
	return err
}

// RevokeOIDCAuthRequestTokens revokes every token issued from one code.
func (t *tx) RevokeOIDCAuthRequestTokens(ctx context.Context, applicationID, authRequestID string) error {
	if _, err := t.q.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET state = 'revoked'
		WHERE application_id = $1 AND auth_request_id = $2 AND state <> 'revoked'`, applicationID, authRequestID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked = TRUE
		WHERE application_id = $1 AND auth_request_id = $2 AND NOT revoked`, applicationID, authRequestID)
	return err
}

// RevokeOIDCAccountTokens revokes one person's tokens of the application.
func (t *tx) RevokeOIDCAccountTokens(ctx context.Context, applicationID, accountID string) error {
	if _, err := t.q.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET state = 'revoked'
		WHERE application_id = $1 AND account_id = $2 AND state <> 'revoked'`, applicationID, accountID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked = TRUE
		WHERE application_id = $1 AND account_id = $2 AND NOT revoked`, applicationID, accountID)
	return err
}

// OIDCOrgChoice is the organization the person last picked for the application.
func (t *tx) OIDCOrgChoice(ctx context.Context, applicationID, accountID string) (string, error) {
	var org string
	err := t.q.QueryRowContext(ctx, `SELECT c.organization_id FROM oidc_org_choices c
		WHERE c.application_id = $1 AND c.account_id = $2`, applicationID, accountID).Scan(&org)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return org, err
}

// SetOIDCOrgChoice keeps the organization the person picked for the application.
func (t *tx) SetOIDCOrgChoice(ctx context.Context, applicationID, accountID, orgID string, at time.Time) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO oidc_org_choices (account_id, application_id, organization_id, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, application_id) DO UPDATE SET organization_id = excluded.organization_id,
			updated_at = excluded.updated_at`, accountID, applicationID, orgID, ts(at))
	return err
}

// DeleteExpiredOIDC deletes what expired before now.
func (t *tx) DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	n := 0
	for _, table := range []string{"oidc_auth_requests", "oidc_access_tokens", "oidc_refresh_tokens"} {
		res, err := t.q.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at < $1`, ts(now))
		if err != nil {
			return n, err
		}
		m, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += int(m)
	}
	// Logout notices sent or given up, after account.OIDCLogoutKeep.
	res, err := t.q.ExecContext(ctx, `DELETE FROM oidc_logout_notices WHERE state <> 'pending' AND updated_at < $1`,
		ts(now.Add(-account.OIDCLogoutKeep)))
	if err != nil {
		return n, err
	}
	m, err := res.RowsAffected()
	return n + int(m), err
}

// SigningKeys lists the current and previous signing keys, newest first.
func (t *tx) SigningKeys(ctx context.Context) ([]account.SigningKey, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT k.id, k.algorithm, k.private_key, k.state, k.created_at, k.rotated_at
		FROM oidc_signing_keys k WHERE k.state IN ('current', 'previous')
		ORDER BY CASE k.state WHEN 'current' THEN 0 ELSE 1 END, k.created_at DESC, k.id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.SigningKey{}
	for rows.Next() {
		var k account.SigningKey
		var state string
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &state, scanTime{&k.CreatedAt}, scanTime{&k.RotatedAt}); err != nil {
			return nil, err
		}
		k.State = account.SigningKeyState(state)
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddSigningKey inserts the current key unless there is one.
func (t *tx) AddSigningKey(ctx context.Context, k account.SigningKey) (bool, error) {
	res, err := t.q.ExecContext(ctx, `
		INSERT INTO oidc_signing_keys (id, algorithm, private_key, state, created_at)
		VALUES ($1, $2, $3, 'current', $4) ON CONFLICT DO NOTHING`, k.ID, k.Algorithm, k.PrivateKey, ts(k.CreatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DemoteSigningKeys retires the previous keys and makes the current one previous.
func (t *tx) DemoteSigningKeys(ctx context.Context, now time.Time) error {
	if _, err := t.q.ExecContext(ctx, `UPDATE oidc_signing_keys SET state = 'retired', rotated_at = $1
		WHERE state = 'previous'`, ts(now)); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE oidc_signing_keys SET state = 'previous', rotated_at = $1
		WHERE state = 'current'`, ts(now))
	return err
}
