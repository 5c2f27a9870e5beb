package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.ApplicationTx = (*tx)(nil)

// applicationColumns are the columns of an application, read through the alias ap, in
// the order applicationDest scans them.
const applicationColumns = `ap.id, ap.key, ap.name, ap.created_at, ap.updated_at`

// applicationDest returns the scan destinations of applicationColumns.
func applicationDest(a *account.Application) []any {
	return []any{&a.ID, &a.Key, &a.Name, scanTime{&a.CreatedAt}, scanTime{&a.UpdatedAt}}
}

// applicationKeyColumns are the columns of an application key, read through the
// alias k, in the order applicationKeyDest scans them.
const applicationKeyColumns = `k.id, k.application_id, k.name, k.key_hash, k.prefix, k.created_at,
	k.last_used_at, k.revoked_at`

// applicationKeyDest returns the scan destinations of applicationKeyColumns.
func applicationKeyDest(k *account.ApplicationKey) []any {
	return []any{&k.ID, &k.ApplicationID, &k.Name, &k.Hash, &k.Prefix, scanTime{&k.CreatedAt},
		scanTime{&k.LastUsedAt}, scanTime{&k.RevokedAt}}
}

// Application returns the application whose id or key is ref (the id winning should a
// key ever equal another application's id), or ENOTFOUND.
func (t *tx) Application(ctx context.Context, ref string) (account.Application, error) {
	var a account.Application
	err := t.q.QueryRowContext(ctx, `
		SELECT `+applicationColumns+` FROM applications ap
		WHERE ap.id = $1 OR ap.key = $1
		ORDER BY CASE WHEN ap.id = $1 THEN 0 ELSE 1 END
		LIMIT 1`, ref).
		Scan(applicationDest(&a)...)
	if err != nil {
		return account.Application{}, translate(err, "application")
	}
	return a, nil
}

// Applications lists every application by key.
func (t *tx) Applications(ctx context.Context) ([]account.Application, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+applicationColumns+` FROM applications ap ORDER BY `+t.engine.byteOrder("ap.key"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Application{}
	for rows.Next() {
		var a account.Application
		if err := rows.Scan(applicationDest(&a)...); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreateApplication inserts a. A taken key is an ECONFLICT naming "key".
func (t *tx) CreateApplication(ctx context.Context, a account.Application) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO applications (id, key, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
		a.ID, a.Key, a.Name, ts(a.CreatedAt), ts(a.UpdatedAt))
	return translate(err, "application")
}

// UpdateApplication writes a's name and update time (its key never changes).
func (t *tx) UpdateApplication(ctx context.Context, a account.Application) error {
	res, err := t.q.ExecContext(ctx, `UPDATE applications SET name = $2, updated_at = $3 WHERE id = $1`,
		a.ID, a.Name, ts(a.UpdatedAt))
	return affected(res, err, "application")
}

// CreateApplicationKey inserts k (ENOTFOUND when its application does not exist).
func (t *tx) CreateApplicationKey(ctx context.Context, k account.ApplicationKey) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO application_keys (id, application_id, name, key_hash, prefix, created_at,
			last_used_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.ApplicationID, k.Name, k.Hash, k.Prefix, ts(k.CreatedAt), nullTime(k.LastUsedAt), nullTime(k.RevokedAt))
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "application not found")
	}
	return translate(err, "application key")
}

// ApplicationKeys lists the application's keys, revoked ones included, newest first.
func (t *tx) ApplicationKeys(ctx context.Context, applicationID string) ([]account.ApplicationKey, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+applicationKeyColumns+` FROM application_keys k
		WHERE k.application_id = $1
		ORDER BY k.created_at DESC, `+t.engine.byteOrder("k.id")+` DESC`, applicationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.ApplicationKey{}
	for rows.Next() {
		var k account.ApplicationKey
		if err := rows.Scan(applicationKeyDest(&k)...); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeApplicationKey revokes the application's key id at at; a key that is not the
// application's, or is revoked already, is ENOTFOUND.
func (t *tx) RevokeApplicationKey(ctx context.Context, applicationID, id string, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE application_keys SET revoked_at = $3
		WHERE application_id = $1 AND id = $2 AND revoked_at IS NULL`,
		applicationID, id, ts(at))
	return affected(res, err, "application key")
}

// ApplicationKeyByHash returns the unrevoked key whose secret hashes to hash and its
// application, in one query, or ENOTFOUND.
func (t *tx) ApplicationKeyByHash(ctx context.Context, hash []byte) (account.ApplicationKey, account.Application, error) {
	var k account.ApplicationKey
	var a account.Application
	err := t.q.QueryRowContext(ctx, `
		SELECT `+applicationKeyColumns+`, `+applicationColumns+`
		FROM application_keys k JOIN applications ap ON ap.id = k.application_id
		WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, hash).
		Scan(append(applicationKeyDest(&k), applicationDest(&a)...)...)
	if err != nil {
		return account.ApplicationKey{}, account.Application{}, translate(err, "application key")
	}
	return k, a, nil
}

// TouchApplicationKey records that the key id was used at at. No check reads
// last_used_at, so the minute-by-minute stamp leaves the checks kept in memory alone.
func (t *tx) TouchApplicationKey(ctx context.Context, id string, at time.Time) error {
	res, err := t.execUnwatched(ctx, `UPDATE application_keys SET last_used_at = $2 WHERE id = $1`, id, ts(at))
	return affected(res, err, "application key")
}
