package sqlstore

import (
	"context"
	"strings"

	"roster.dev/roster/internal/account"
)

var _ account.TeamTx = (*tx)(nil)

// teamSelect selects teams through the alias t with their member counts, in the order
// teamDest scans them; the caller appends its conditions after WHERE.
const teamSelect = `
	SELECT t.id, t.org_id, t.name, t.created_at, t.updated_at, COUNT(tm.account_id)
	FROM teams t LEFT JOIN team_members tm ON tm.team_id = t.id
	WHERE `

// teamGroup ends teamSelect's query.
const teamGroup = ` GROUP BY t.id, t.org_id, t.name, t.name_key, t.created_at, t.updated_at`

// teamDest returns the scan destinations of teamSelect.
func teamDest(tm *account.Team) []any {
	return []any{&tm.ID, &tm.OrgID, &tm.Name, scanTime{&tm.CreatedAt}, scanTime{&tm.UpdatedAt}, &tm.Members}
}

// Teams lists orgID's teams by name, case-insensitively, with their member counts.
func (t *tx) Teams(ctx context.Context, orgID string) ([]account.Team, error) {
	rows, err := t.q.QueryContext(ctx, teamSelect+`t.org_id = $1`+teamGroup+
		` ORDER BY `+t.engine.byteOrder("t.name_key")+`, t.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Team{}
	for rows.Next() {
		var tm account.Team
		if err := rows.Scan(teamDest(&tm)...); err != nil {
			return nil, err
		}
		out = append(out, tm)
	}
	return out, rows.Err()
}

// TeamRefs lists orgID's teams by name without counting their members (Members is
// 0): what resolving team names needs, at the cost of one index read.
func (t *tx) TeamRefs(ctx context.Context, orgID string) ([]account.Team, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT t.id, t.org_id, t.name, t.created_at, t.updated_at, 0 FROM teams t
		WHERE t.org_id = $1 ORDER BY `+t.engine.byteOrder("t.name_key")+`, t.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Team{}
	for rows.Next() {
		var tm account.Team
		if err := rows.Scan(teamDest(&tm)...); err != nil {
			return nil, err
		}
		out = append(out, tm)
	}
	return out, rows.Err()
}

// Team returns orgID's team id with its member count, or ENOTFOUND.
func (t *tx) Team(ctx context.Context, orgID, id string) (account.Team, error) {
	var tm account.Team
	err := t.q.QueryRowContext(ctx, teamSelect+`t.org_id = $1 AND t.id = $2`+teamGroup, orgID, id).
		Scan(teamDest(&tm)...)
	if err != nil {
		return account.Team{}, translate(err, "team")
	}
	return tm, nil
}

// CreateTeam inserts tm. A name taken in the organization (case-insensitively) is an
// ECONFLICT naming "name".
func (t *tx) CreateTeam(ctx context.Context, tm account.Team) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO teams (id, org_id, name, name_key, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		tm.ID, tm.OrgID, tm.Name, strings.ToLower(tm.Name), ts(tm.CreatedAt), ts(tm.UpdatedAt))
	return translate(err, "team")
}

// UpdateTeam writes tm's name and update time.
func (t *tx) UpdateTeam(ctx context.Context, tm account.Team) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE teams SET name = $3, name_key = $4, updated_at = $5
		WHERE org_id = $1 AND id = $2`,
		tm.OrgID, tm.ID, tm.Name, strings.ToLower(tm.Name), ts(tm.UpdatedAt))
	return affected(res, err, "team")
}

// DeleteTeam deletes orgID's team id; its team memberships cascade, the members stay.
func (t *tx) DeleteTeam(ctx context.Context, orgID, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM teams WHERE org_id = $1 AND id = $2`, orgID, id)
	return affected(res, err, "team")
}

// SetMemberTeams replaces accountID's teams in orgID with teamIDs. Ids of teams that
// are not orgID's are ignored.
func (t *tx) SetMemberTeams(ctx context.Context, orgID, accountID string, teamIDs []string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM team_members WHERE org_id = $1 AND account_id = $2`,
		orgID, accountID)
	if err != nil || len(teamIDs) == 0 {
		return translate(err, "member")
	}
	var a args
	org, acct := a.add(orgID), a.add(accountID)
	_, err = t.q.ExecContext(ctx, `
		INSERT INTO team_members (team_id, org_id, account_id)
		SELECT t.id, t.org_id, CAST(`+acct+` AS TEXT) FROM teams t
		WHERE t.org_id = `+org+` AND t.id IN (`+a.list(teamIDs)+`)`, a...)
	return translate(err, "member")
}
