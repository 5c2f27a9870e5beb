package sqlstore

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
)

var (
	_ account.SCIMTokenTx = (*tx)(nil)
	_ account.SCIMUserTx  = (*tx)(nil)
	_ account.SCIMGroupTx = (*tx)(nil)
)

const scimTokenColumns = `k.id, k.org_id, k.description, k.token_hash, k.prefix, k.created_by, k.created_at,
	k.last_used_at, k.revoked_at`

func scimTokenDest(k *account.SCIMToken) []any {
	return []any{&k.ID, &k.OrgID, &k.Description, &k.Hash, &k.Prefix, &k.CreatedBy, scanTime{&k.CreatedAt},
		scanTime{&k.LastUsedAt}, scanTime{&k.RevokedAt}}
}

// CreateSCIMToken inserts k.
func (t *tx) CreateSCIMToken(ctx context.Context, k account.SCIMToken) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO scim_tokens (id, org_id, description, token_hash, prefix, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.OrgID, k.Description, k.Hash, k.Prefix, k.CreatedBy, ts(k.CreatedAt))
	return translate(err, "SCIM token")
}

// SCIMTokens lists orgID's tokens, revoked ones included, newest first.
func (t *tx) SCIMTokens(ctx context.Context, orgID string) ([]account.SCIMToken, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+scimTokenColumns+` FROM scim_tokens k
		WHERE k.org_id = $1
		ORDER BY k.created_at DESC, k.id DESC`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.SCIMToken{}
	for rows.Next() {
		var k account.SCIMToken
		if err := rows.Scan(scimTokenDest(&k)...); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeSCIMToken revokes orgID's unrevoked token id at at, else ENOTFOUND.
func (t *tx) RevokeSCIMToken(ctx context.Context, orgID, id string, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE scim_tokens SET revoked_at = $3
		WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL`, orgID, id, ts(at))
	return affected(res, err, "SCIM token")
}

// SCIMTokenByHash returns the unrevoked token whose secret hashes to hash.
func (t *tx) SCIMTokenByHash(ctx context.Context, hash []byte) (account.SCIMToken, error) {
	var k account.SCIMToken
	err := t.q.QueryRowContext(ctx, `
		SELECT `+scimTokenColumns+` FROM scim_tokens k
		WHERE k.token_hash = $1 AND k.revoked_at IS NULL`, hash).Scan(scimTokenDest(&k)...)
	if err != nil {
		return account.SCIMToken{}, translate(err, "SCIM token")
	}
	return k, nil
}

// TouchSCIMToken records that the token id was used at at.
func (t *tx) TouchSCIMToken(ctx context.Context, id string, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1`, id, ts(at))
	return affected(res, err, "SCIM token")
}

// scimValue is the stored JSON form of an account.SCIMValue.
type scimValue struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

func encodeValues(vs []account.SCIMValue) (js, text string) {
	out := make([]scimValue, len(vs))
	lines := make([]string, len(vs))
	for i, v := range vs {
		out[i] = scimValue(v)
		lines[i] = strings.ToLower(strings.ReplaceAll(v.Value, "\n", " "))
	}
	b, _ := json.Marshal(out)
	return string(b), strings.Join(lines, "\n")
}

func decodeValues(js string) ([]account.SCIMValue, error) {
	var vs []scimValue
	if err := json.Unmarshal([]byte(js), &vs); err != nil {
		return nil, err
	}
	out := make([]account.SCIMValue, len(vs))
	for i, v := range vs {
		out[i] = account.SCIMValue(v)
	}
	return out, nil
}

// scimUserColumns are a member's SCIM data through the alias u of a LEFT JOIN, NULL
// columns read as empty.
const scimUserColumns = `COALESCE(u.account_id, ''), COALESCE(u.user_name, ''), COALESCE(u.external_id, ''),
	COALESCE(u.display_name, ''), COALESCE(u.given_name, ''), COALESCE(u.family_name, ''),
	COALESCE(u.formatted_name, ''), COALESCE(u.emails, '[]'),
	COALESCE(u.phones, '[]'), COALESCE(u.department, ''), COALESCE(u.employee_number, ''),
	COALESCE(u.manager, ''), COALESCE(u.extra, ''), u.updated_at`

const scimUserFrom = ` FROM memberships m JOIN accounts a ON a.id = m.account_id
	LEFT JOIN scim_users u ON u.org_id = m.org_id AND u.account_id = m.account_id`

// scimUserRow scans membershipColumns, accountColumns and scimUserColumns.
type scimUserRow struct {
	u              account.SCIMUser
	emails, phones string
	extra          string
}

func (r *scimUserRow) dest() []any {
	d := &r.u.Data
	return append(memberDest(&r.u.Member), &d.AccountID, &d.UserName, &d.ExternalID, &d.DisplayName,
		&d.GivenName, &d.FamilyName, &d.Formatted, &r.emails, &r.phones, &d.Department, &d.EmployeeNumber, &d.Manager, &r.extra,
		scanTime{&d.UpdatedAt})
}

func (r *scimUserRow) user(orgID string) (account.SCIMUser, error) {
	var err error
	if r.u.Data.Emails, err = decodeValues(r.emails); err != nil {
		return r.u, err
	}
	if r.u.Data.Phones, err = decodeValues(r.phones); err != nil {
		return r.u, err
	}
	if r.extra != "" {
		r.u.Data.Extra = []byte(r.extra)
	}
	if r.u.Data.AccountID != "" {
		r.u.Data.OrgID = orgID
	}
	return r.u, nil
}

// SCIMUser returns one member of orgID with its SCIM data, or ENOTFOUND.
func (t *tx) SCIMUser(ctx context.Context, orgID, accountID string) (account.SCIMUser, error) {
	us, err := t.scimUsers(ctx, orgID, `m.org_id = $1 AND m.account_id = $2`, orgID, accountID)
	if err == nil && len(us) == 0 {
		err = account.Errorf(account.ENOTFOUND, "user not found")
	}
	if err != nil {
		return account.SCIMUser{}, err
	}
	return us[0], nil
}

// SCIMUserByName returns the member of orgID whose SCIM userName is userName
// (case-insensitively), or ENOTFOUND.
func (t *tx) SCIMUserByName(ctx context.Context, orgID, userName string) (account.SCIMUser, error) {
	us, err := t.scimUsers(ctx, orgID, `m.org_id = $1 AND u.user_name_key = $2`, orgID, strings.ToLower(userName))
	if err == nil && len(us) == 0 {
		err = account.Errorf(account.ENOTFOUND, "user not found")
	}
	if err != nil {
		return account.SCIMUser{}, err
	}
	return us[0], nil
}

// scimUsers runs one query of members with their SCIM data and loads the page's
// teams, seats and invitations.
func (t *tx) scimUsers(ctx context.Context, orgID, cond string, args ...any) ([]account.SCIMUser, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+membershipColumns+`, `+accountColumns+`, `+scimUserColumns+
		scimUserFrom+` WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.SCIMUser
	for rows.Next() {
		var r scimUserRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		u, err := r.user(orgID)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	members := make([]account.Member, len(out))
	for i := range out {
		members[i] = out[i].Member
	}
	if err := t.loadMemberDetails(ctx, orgID, members); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Member = members[i]
	}
	return out, nil
}

// FindSCIMUsers returns a page of q.OrgID's members matching q.Filter, in account id
// order, and the number of matches: the filter is compiled into the WHERE clause of
// one query for the page and one for the count.
func (t *tx) FindSCIMUsers(ctx context.Context, q account.SCIMQuery) ([]account.SCIMUser, int, error) {
	var a args
	org := a.add(q.OrgID)
	cond := `m.org_id = ` + org
	if q.Filter != nil {
		c, err := compileSCIM(t.engine, q.Filter, &a, scimUserCols(t.engine, org), 0)
		if err != nil {
			return nil, 0, err
		}
		cond += ` AND ` + c
	}
	// Without a filter the store keeps the total; the count of a filter joins the
	// accounts and the SCIM data only when the filter reads them.
	count := countMembers(org)
	if q.Filter != nil {
		from := scimUserFrom
		if !strings.Contains(cond, "a.") && !strings.Contains(cond, "u.") {
			from = ` FROM memberships m`
		}
		count = `SELECT COUNT(*)` + from + ` WHERE ` + cond
	}
	var total int
	if err := t.q.QueryRowContext(ctx, count, a...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if q.Limit <= 0 || q.Offset >= total {
		return []account.SCIMUser{}, total, nil
	}
	// The page's account ids come first, in a subquery that reads no more than it
	// must: without a filter, the memberships' primary key alone (index-only, even deep
	// into the list); then only the page's rows are joined and loaded.
	ids := `SELECT m.account_id` + scimUserFrom + ` WHERE ` + cond
	if q.Filter == nil {
		ids = `SELECT m.account_id FROM memberships m WHERE ` + cond
	}
	// LIMIT and OFFSET are written as numbers (they are ints): as parameters, a
	// prepared statement's generic plan on PostgreSQL would not know the page is small.
	page := `m.org_id = ` + org + ` AND m.account_id IN (` + ids + ` ORDER BY m.account_id LIMIT ` + strconv.Itoa(q.Limit) +
		` OFFSET ` + strconv.Itoa(q.Offset) + `) ORDER BY m.account_id`
	us, err := t.scimUsers(ctx, q.OrgID, page, a...)
	if us == nil {
		us = []account.SCIMUser{}
	}
	return us, total, err
}

// PutSCIMUser inserts or replaces a member's SCIM data. A userName another member of
// the organization has is an ECONFLICT naming "userName".
func (t *tx) PutSCIMUser(ctx context.Context, d account.SCIMUserData) error {
	emails, emailsText := encodeValues(d.Emails)
	phones, phonesText := encodeValues(d.Phones)
	extra := string(d.Extra)
	if extra == "" {
		extra = "{}"
	}
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO scim_users (org_id, account_id, user_name, user_name_key, external_id, display_name,
			formatted_name, emails, emails_text, phones, phones_text, department, employee_number, manager,
			extra, updated_at, given_name, family_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (org_id, account_id) DO UPDATE SET user_name = excluded.user_name,
			user_name_key = excluded.user_name_key, external_id = excluded.external_id,
			display_name = excluded.display_name, formatted_name = excluded.formatted_name,
			given_name = excluded.given_name, family_name = excluded.family_name,
			emails = excluded.emails, emails_text = excluded.emails_text, phones = excluded.phones,
			phones_text = excluded.phones_text, department = excluded.department,
			employee_number = excluded.employee_number, manager = excluded.manager, extra = excluded.extra,
			updated_at = excluded.updated_at`,
		d.OrgID, d.AccountID, d.UserName, strings.ToLower(d.UserName), nullString(d.ExternalID), d.DisplayName,
		d.Formatted, emails, emailsText, phones, phonesText, d.Department, d.EmployeeNumber, d.Manager,
		extra, ts(d.UpdatedAt), d.GivenName, d.FamilyName)
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "member not found")
	}
	return translate(err, "user")
}

const scimGroupSelect = `SELECT t.id, t.org_id, t.name, t.created_at, t.updated_at, COALESCE(g.external_id, ''),
	g.updated_at FROM teams t LEFT JOIN scim_groups g ON g.team_id = t.id`

// SCIMGroup returns one team of orgID with its members and externalId, or ENOTFOUND.
func (t *tx) SCIMGroup(ctx context.Context, orgID, teamID string) (account.SCIMGroup, error) {
	gs, err := t.scimGroups(ctx, orgID, scimGroupSelect+` WHERE t.org_id = $1 AND t.id = $2`, orgID, teamID)
	if err == nil && len(gs) == 0 {
		err = account.Errorf(account.ENOTFOUND, "group not found")
	}
	if err != nil {
		return account.SCIMGroup{}, err
	}
	return gs[0], nil
}

// FindSCIMGroups returns a page of q.OrgID's teams matching q.Filter, in id order, and
// the number of matches.
func (t *tx) FindSCIMGroups(ctx context.Context, q account.SCIMQuery) ([]account.SCIMGroup, int, error) {
	var a args
	org := a.add(q.OrgID)
	cond := ` WHERE t.org_id = ` + org
	if q.Filter != nil {
		c, err := compileSCIM(t.engine, q.Filter, &a, scimGroupCols, 0)
		if err != nil {
			return nil, 0, err
		}
		cond += ` AND ` + c
	}
	var total int
	if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams t LEFT JOIN scim_groups g ON g.team_id = t.id`+cond, a...).
		Scan(&total); err != nil {
		return nil, 0, err
	}
	if q.Limit <= 0 || q.Offset >= total {
		return []account.SCIMGroup{}, total, nil
	}
	gs, err := t.scimGroups(ctx, q.OrgID, scimGroupSelect+cond+` ORDER BY t.id LIMIT `+strconv.Itoa(q.Limit)+
		` OFFSET `+strconv.Itoa(q.Offset), a...)
	if gs == nil {
		gs = []account.SCIMGroup{}
	}
	return gs, total, err
}

// scimGroups runs query (scimGroupSelect and a condition) and loads the members of
// the teams found in one more query.
func (t *tx) scimGroups(ctx context.Context, orgID, query string, qargs ...any) ([]account.SCIMGroup, error) {
	rows, err := t.q.QueryContext(ctx, query, qargs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.SCIMGroup
	byID := map[string]int{}
	var ids []string
	for rows.Next() {
		var g account.SCIMGroup
		var changed time.Time
		if err := rows.Scan(&g.ID, &g.OrgID, &g.Name, scanTime{&g.CreatedAt}, scanTime{&g.UpdatedAt},
			&g.ExternalID, scanTime{&changed}); err != nil {
			return nil, err
		}
		g.LastModified = g.UpdatedAt
		if changed.After(g.LastModified) {
			g.LastModified = changed
		}
		g.Members = []account.SCIMValue{}
		byID[g.ID] = len(out)
		ids = append(ids, g.ID)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return out, nil
	}
	var a args
	org := a.add(orgID)
	mrows, err := t.q.QueryContext(ctx, `
		SELECT tm.team_id, tm.account_id, COALESCE(d.display, ''), a.first_name, a.last_name, a.email,
			a.managed_by, m.state, COALESCE(o.parent_id, ''), COALESCE(su.display_name, ''),
			COALESCE(su.given_name, ''), COALESCE(su.family_name, ''), COALESCE(su.user_name, '')
		FROM team_members tm JOIN accounts a ON a.id = tm.account_id
		JOIN memberships m ON m.org_id = tm.org_id AND m.account_id = tm.account_id
		JOIN organizations o ON o.id = tm.org_id
		LEFT JOIN scim_group_members d ON d.team_id = tm.team_id AND d.account_id = tm.account_id
		LEFT JOIN scim_users su ON su.org_id = tm.org_id AND su.account_id = tm.account_id
		WHERE tm.org_id = `+org+` AND tm.team_id IN (`+a.list(ids)+`)
		ORDER BY tm.team_id, tm.account_id`, a...)
	if err != nil {
		return nil, err
	}
	defer mrows.Close()
	for mrows.Next() {
		var teamID, display, scimDisplay, scimGiven, scimFamily, userName string
		var acct account.Account
		var state account.MemberState
		o := account.Organization{ID: orgID}
		if err := mrows.Scan(&teamID, &acct.ID, &display, &acct.FirstName, &acct.LastName, &acct.Email,
			scanNullString{&acct.ManagedBy}, &state, &o.ParentID, &scimDisplay, &scimGiven, &scimFamily,
			&userName); err != nil {
			return nil, err
		}
		// The name the identity provider gave the member in the group; else the
		// account's names, where the organization may see them (an invitee's are not
		// its to see, account.ProfileVisible); else the address, unless the account
		// has none; else the identity provider's names for the user, or its userName.
		if display == "" && account.ProfileVisible(o, state, acct) {
			display = strings.TrimSpace(acct.FirstName + " " + acct.LastName)
		}
		if display == "" && !account.NoMailAddress(acct.Email) {
			display = acct.Email
		}
		for _, name := range []string{scimDisplay, strings.TrimSpace(scimGiven + " " + scimFamily), userName} {
			if display == "" {
				display = name
			}
		}
		g := &out[byID[teamID]]
		g.Members = append(g.Members, account.SCIMValue{Value: acct.ID, Display: display})
	}
	return out, mrows.Err()
}

// PutSCIMGroup records that SCIM changed team teamID at at, and its externalId unless
// externalID is nil.
func (t *tx) PutSCIMGroup(ctx context.Context, orgID, teamID string, externalID *string, at time.Time) error {
	var err error
	if externalID == nil {
		_, err = t.q.ExecContext(ctx, `
			INSERT INTO scim_groups (team_id, org_id, updated_at)
			SELECT t.id, t.org_id, `+t.engine.timeArg("$3")+` FROM teams t WHERE t.org_id = $1 AND t.id = $2
			ON CONFLICT (team_id) DO UPDATE SET updated_at = excluded.updated_at`, orgID, teamID, ts(at))
		return translate(err, "group")
	}
	_, err = t.q.ExecContext(ctx, `
		INSERT INTO scim_groups (team_id, org_id, external_id, updated_at)
		SELECT t.id, t.org_id, `+t.engine.textArg("$3")+`, `+t.engine.timeArg("$4")+` FROM teams t WHERE t.org_id = $1 AND t.id = $2
		ON CONFLICT (team_id) DO UPDATE SET external_id = excluded.external_id, updated_at = excluded.updated_at`,
		orgID, teamID, nullString(*externalID), ts(at))
	return translate(err, "group")
}

// RemoveTeamMembers takes the accounts out of orgID's team teamID.
func (t *tx) RemoveTeamMembers(ctx context.Context, orgID, teamID string, accountIDs []string) error {
	if len(accountIDs) == 0 {
		return nil
	}
	var a args
	q := `DELETE FROM team_members WHERE org_id = ` + a.add(orgID) + ` AND team_id = ` + a.add(teamID) +
		` AND account_id IN (` + a.list(accountIDs) + `)`
	_, err := t.q.ExecContext(ctx, q, a...)
	return err
}

// SetSCIMMemberDisplays keeps the names an identity provider gave members of a team.
func (t *tx) SetSCIMMemberDisplays(ctx context.Context, teamID string, members []account.SCIMValue) error {
	for _, m := range members {
		_, err := t.q.ExecContext(ctx, `
			INSERT INTO scim_group_members (team_id, account_id, display) VALUES ($1, $2, $3)
			ON CONFLICT (team_id, account_id) DO UPDATE SET display = excluded.display`,
			teamID, m.Value, m.Display)
		if err != nil {
			return translate(err, "group member")
		}
	}
	return nil
}
