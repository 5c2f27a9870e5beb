package sqlstore

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"roster.dev/roster/internal/account"
)

var _ account.MemberTx = (*tx)(nil)

// membershipColumns are the columns of a membership, read through the alias m, in the
// order membershipDest scans them.
const membershipColumns = `m.org_id, m.account_id, m.role_id, m.state, m.created_at, m.updated_at`

// membershipDest returns the scan destinations of membershipColumns.
func membershipDest(m *account.Membership) []any {
	return []any{&m.OrgID, &m.AccountID, &m.RoleID, &m.State, scanTime{&m.CreatedAt}, scanTime{&m.UpdatedAt}}
}

// memberDest returns the scan destinations of membershipColumns then accountColumns.
func memberDest(m *account.Member) []any {
	return append(membershipDest(&m.Membership), accountDest(&m.Account)...)
}

// Membership returns accountID's membership of orgID, or ENOTFOUND.
func (t *tx) Membership(ctx context.Context, orgID, accountID string) (account.Membership, error) {
	var m account.Membership
	err := t.q.QueryRowContext(ctx, `
		SELECT `+membershipColumns+` FROM memberships m
		WHERE m.org_id = $1 AND m.account_id = $2`, orgID, accountID).
		Scan(membershipDest(&m)...)
	if err != nil {
		return account.Membership{}, translate(err, "member")
	}
	return m, nil
}

// MembershipsOfAccount lists the account's memberships with their organizations and
// team names, by organization name then id.
func (t *tx) MembershipsOfAccount(ctx context.Context, accountID string) ([]account.AccountMembership, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+membershipColumns+`, `+organizationColumns+`
		FROM memberships m JOIN organizations o ON o.id = m.org_id
		WHERE m.account_id = $1
		ORDER BY `+t.engine.byteOrder("o.name")+`, o.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.AccountMembership{}
	for rows.Next() {
		var am account.AccountMembership
		if err := rows.Scan(append(membershipDest(&am.Membership), organizationDest(&am.Organization)...)...); err != nil {
			return nil, err
		}
		am.Teams = []string{}
		out = append(out, am)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	byOrg := make(map[string]*[]string, len(out))
	for i := range out {
		byOrg[out[i].OrgID] = &out[i].Teams
	}

	// The teams of every membership at once, through the memberships so that the
	// (org_id, account_id) index of team_members serves the lookup.
	rows, err = t.q.QueryContext(ctx, `
		SELECT tm.org_id, te.name
		FROM memberships m
		JOIN team_members tm ON tm.org_id = m.org_id AND tm.account_id = m.account_id
		JOIN teams te ON te.id = tm.team_id AND te.org_id = m.org_id
		WHERE m.account_id = $1`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var orgID, name string
		if err := rows.Scan(&orgID, &name); err != nil {
			return nil, err
		}
		if teams := byOrg[orgID]; teams != nil {
			*teams = append(*teams, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		sortTeamNames(out[i].Teams)
	}
	return out, t.loadAccountSeats(ctx, accountID, out)
}

// loadAccountSeats fills the Seats of every membership of one account, in one query
// by the seats' account index.
func (t *tx) loadAccountSeats(ctx context.Context, accountID string, ms []account.AccountMembership) error {
	byOrg := make(map[string]*[]account.MemberSeat, len(ms))
	for i := range ms {
		ms[i].Seats = []account.MemberSeat{}
		byOrg[ms[i].OrgID] = &ms[i].Seats
	}
	rows, err := t.q.QueryContext(ctx, `
		SELECT s.org_id, s.subscription_id, p.key
		FROM seats s
		JOIN subscriptions u ON u.id = s.subscription_id
		JOIN applications p ON p.id = u.application_id
		WHERE s.account_id = $1
		ORDER BY p.key, s.subscription_id`, accountID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var orgID string
		var seat account.MemberSeat
		if err := rows.Scan(&orgID, &seat.SubscriptionID, &seat.ApplicationKey); err != nil {
			return err
		}
		if seats := byOrg[orgID]; seats != nil {
			*seats = append(*seats, seat)
		}
	}
	return rows.Err()
}

// CreateMembership inserts m, with the search text of its account (ENOTFOUND when the
// account does not exist). An existing membership is an ECONFLICT.
func (t *tx) CreateMembership(ctx context.Context, m account.Membership) error {
	// The search text is lower-cased in Go, like the q patterns matched against it:
	// SQLite's lower() folds ASCII only, so SQL could not compute the same text.
	var a account.Account
	org := account.Organization{ID: m.OrgID}
	err := t.q.QueryRowContext(ctx, `
		SELECT a.email, a.username, a.first_name, a.last_name, a.managed_by, COALESCE(o.parent_id, '')
		FROM accounts a LEFT JOIN organizations o ON o.id = $2 WHERE a.id = $1`, m.AccountID, m.OrgID).
		Scan(&a.Email, scanNullString{&a.Username}, &a.FirstName, &a.LastName, scanNullString{&a.ManagedBy}, &org.ParentID)
	if err != nil {
		return translate(err, "account")
	}
	_, err = t.q.ExecContext(ctx, `
		INSERT INTO memberships (org_id, account_id, role_id, state, search, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		m.OrgID, m.AccountID, m.RoleID, string(m.State), memberSearch(org, m.State, a), ts(m.CreatedAt), ts(m.UpdatedAt))
	return translate(err, "member")
}

// UpdateMembership writes m's role, state and update time, and the search text the
// state decides (an accepted invitation makes the member's names searchable).
func (t *tx) UpdateMembership(ctx context.Context, m account.Membership) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE memberships SET role_id = $3, state = $4, updated_at = $5
		WHERE org_id = $1 AND account_id = $2`,
		m.OrgID, m.AccountID, m.RoleID, string(m.State), ts(m.UpdatedAt))
	if err := affected(res, err, "member"); err != nil {
		return err
	}
	a, err := t.AccountByID(ctx, m.AccountID)
	if err != nil {
		return err
	}
	return t.refreshSearch(ctx, a, m.OrgID)
}

// DeleteMembership deletes a membership and its team memberships (they cascade).
func (t *tx) DeleteMembership(ctx context.Context, orgID, accountID string) error {
	if err := t.lockSeats(ctx, orgID); err != nil { // its seats go with it
		return err
	}
	res, err := t.q.ExecContext(ctx, `DELETE FROM memberships WHERE org_id = $1 AND account_id = $2`,
		orgID, accountID)
	return affected(res, err, "member")
}

// Member returns one member of orgID with its account, teams, seats and (invited)
// pending invitation, or ENOTFOUND.
func (t *tx) Member(ctx context.Context, orgID, accountID string) (account.Member, error) {
	var m account.Member
	err := t.q.QueryRowContext(ctx, `
		SELECT `+membershipColumns+`, `+accountColumns+`
		FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.org_id = $1 AND m.account_id = $2`, orgID, accountID).
		Scan(memberDest(&m)...)
	if err != nil {
		return account.Member{}, translate(err, "member")
	}
	members := []account.Member{m}
	if err := t.loadMemberDetails(ctx, orgID, members); err != nil {
		return account.Member{}, err
	}
	return members[0], nil
}

// FindMembers returns one page of f.OrgID's members matching f, by account id, with
// their accounts, teams, seats and the invited ones' pending invitations (each loaded
// for the whole page in one more query), and how many members match f on every page.
func (t *tx) FindMembers(ctx context.Context, f account.MemberFilter) ([]account.Member, int, error) {
	rare, err := t.rareNeedle(ctx, f.Q)
	if err != nil {
		return nil, 0, err
	}
	q := memberQueries(t.engine, f, rare)
	total := -1
	if !f.SkipTotal {
		if err := t.q.QueryRowContext(ctx, q.count, q.countArgs...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	rows, err := t.q.QueryContext(ctx, q.page, q.pageArgs...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	members := []account.Member{}
	for rows.Next() {
		var m account.Member
		if err := rows.Scan(memberDest(&m)...); err != nil {
			return nil, 0, err
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := t.loadMemberDetails(ctx, f.OrgID, members); err != nil {
		return nil, 0, err
	}
	return members, total, nil
}

// memberQuery is FindMembers' SQL: the total, and the page.
type memberQuery struct {
	count, page         string
	countArgs, pageArgs args
}

// memberQueries builds the queries of FindMembers for f. Every plan reads an index in
// account id order from f.After and stops at f.Limit matches (see TestFindMembersPlans):
//
//   - no filter: the primary key (org_id, account_id);
//   - role, state: memberships_role (org_id, role_id, account_id),
//     memberships_state (org_id, state, account_id);
//   - team: team_members' primary key (team_id, account_id), the team found by
//     teams_name_key (org_id, name_key), then each membership by its primary key;
//   - subscription: likewise seats' primary key (subscription_id, account_id), the
//     subscription found by its primary key (and a team, when also asked, probed by
//     team_members' primary key);
//   - application: per membership, a semi-join probe of the covering seats_member
//     (org_id, account_id, subscription_id) for the application's subscriptions
//     (listed once by subscriptions_application), so a member holding several of
//     them is one match;
//   - q: the page's account ids come from a subquery that memberships_search
//     (org_id, account_id, search) covers, so the search reads the index, not the
//     table; only the page's rows are then fetched.
//
// The totals read the same indexes, covering except with a team or a subscription and
// another filter, or an application with another filter; the application alone counts
// its distinct holders from seats_pkey. Without a filter the total counts nothing:
// the store keeps it (countMembers).
//
// A needle of three characters or more is also looked up in the trigram index
// (migration 00034). When rare is set (see rareNeedle) the matches come from the
// index first and are then paged, so that the search reads its matches only: on
// SQLite the members whose FTS5 trigrams hold it (each found by its number: the
// unary + keeps SQLite from reading the organization's rows of member_search_rows
// instead), on PostgreSQL those whose text is LIKE it, which pg_trgm's GIN index
// finds. A common needle is matched as the organization's members are read in order,
// which fills a page at once (on PostgreSQL a LIKE pattern there made later pages
// slower: 12 → 44 ms at 100,000 members for one 11,111 match).
func memberQueries(engine Engine, f account.MemberFilter, rare bool) memberQuery {
	var a args
	org := a.add(f.OrgID)
	// A team or a subscription drives the query: its index lists the members in
	// account id order.
	driven := f.TeamName != "" || f.SubscriptionID != ""
	// The filtering runs on alias x: m itself, or k in the subquery of the q filter.
	x := "m"
	if f.Q != "" && !driven {
		x = "k"
	}
	var conds []string
	// matches, when set, replaces the memberships x is read from: a rare needle's
	// matches on PostgreSQL, found through the trigram index first. OFFSET 0 keeps the
	// planner from folding them into the page's ordered read, which for a rare needle
	// reads the organization's members from the cursor on.
	matches := ""
	if f.Q != "" {
		n := needle(f.Q)
		switch {
		case engine == Postgres && rare && !driven:
			// The memberships read are the matches only (see from below).
			matches = `(SELECT * FROM memberships WHERE org_id = ` + org + ` AND search LIKE ` + a.add(likePattern(n)) + ` OFFSET 0)`
		case rare && engine == SQLite:
			conds = append(conds, engine.contains(x+`.search`, a.add(n)), x+`.account_id IN (
				SELECT r.account_id FROM member_search_rows r
				WHERE +r.org_id = `+org+` AND r.id IN (
					SELECT rowid FROM member_trigrams WHERE member_trigrams MATCH `+a.add(ftsPhrase(n))+`))`)
		default:
			conds = append(conds, engine.contains(x+`.search`, a.add(n)))
		}
	}
	if f.RoleID != "" {
		conds = append(conds, x+`.role_id = `+a.add(f.RoleID))
	}
	if f.State != "" {
		conds = append(conds, x+`.state = `+a.add(string(f.State)))
	}
	// holds is the application filter's condition; bound, when set, repeats the page's
	// cursor inside it (see boundHolds).
	app := ""
	holds := func(bound string) string {
		if bound != "" {
			bound = ` AND xs.account_id > ` + bound
		}
		return `EXISTS (
			SELECT 1 FROM seats xs
			WHERE xs.org_id = ` + x + `.org_id AND xs.account_id = ` + x + `.account_id` + bound + `
				AND xs.subscription_id IN (
					SELECT xu.id FROM subscriptions xu
					WHERE xu.org_id = ` + org + ` AND xu.application_id = ` + app + `))`
	}
	if f.ApplicationID != "" {
		app = a.add(f.ApplicationID)
		conds = append(conds, holds(""))
	}
	// boundHolds bounds the application filter of the page's conds by the cursor on
	// PostgreSQL, whose merge semi-join would otherwise read the seats from the first
	// account on (20 times slower in the middle of 100,000 members).
	boundHolds := func(conds []string, after string) {
		if i := slices.Index(conds, holds("")); i >= 0 && engine.boundsMergeJoins() {
			conds[i] = holds(after)
		}
	}
	selectPage := `SELECT ` + membershipColumns + `, ` + accountColumns

	if driven {
		// from yields the driving rows, with their organization in orgCol and account id
		// in col. Seats and team_members have foreign keys to the memberships (and seats
		// one to (subscriptions.id, org_id)), so every row is a membership of the
		// organization: the total joins the memberships only to filter them further.
		var from, orgCol, col string
		var drive []string
		if f.SubscriptionID != "" {
			from = ` FROM subscriptions su JOIN seats st ON st.subscription_id = su.id`
			orgCol, col = "su.org_id", "st.account_id"
			drive = []string{`su.id = ` + a.add(f.SubscriptionID), `su.org_id = ` + org}
			if f.TeamName != "" {
				from += ` JOIN teams t ON t.org_id = su.org_id
					JOIN team_members tm ON tm.team_id = t.id AND tm.account_id = st.account_id`
				drive = append(drive, `t.name_key = `+a.add(strings.ToLower(f.TeamName)))
			}
		} else {
			from = ` FROM teams t JOIN team_members tm ON tm.team_id = t.id`
			orgCol, col = "t.org_id", "tm.account_id"
			drive = []string{`t.org_id = ` + org, `t.name_key = ` + a.add(strings.ToLower(f.TeamName))}
		}
		joinMembers := ` JOIN memberships m ON m.org_id = ` + orgCol + ` AND m.account_id = ` + col
		var q memberQuery
		if len(conds) == 0 {
			q.count = `SELECT COUNT(*)` + from + where(drive)
		} else {
			q.count = `SELECT COUNT(*)` + from + joinMembers + where(append(slices.Clone(drive), conds...))
		}
		q.countArgs = slices.Clone(a)
		conds = append(drive, conds...)
		if f.After != "" {
			after := a.add(f.After)
			conds = append(conds, col+` > `+after)
			if engine.boundsMergeJoins() {
				// See below; the memberships need the bound as much as the accounts
				// (the team filter's later pages at 1,000,000 members: 95–112 ms without
				// it on m, 1.8 ms with it).
				conds = append(conds, `m.account_id > `+after, `a.id > `+after)
			}
			boundHolds(conds, after)
		}
		q.page = selectPage + from + joinMembers + `
			JOIN accounts a ON a.id = m.account_id` + where(conds) + ` ORDER BY ` + col + limit(&a, f.Limit)
		q.pageArgs = a
		return q
	}

	from := "memberships " + x
	if matches != "" {
		from = matches + " " + x
	}
	q := memberQuery{countArgs: slices.Clone(a)}
	if app != "" && len(conds) == 1 && matches == "" {
		// Only the application: count its seat holders from the seats side, reading
		// only the seats of the application's subscriptions (covering seats_pkey), not
		// probing every membership. A member with several of them counts once.
		q.count = `SELECT COUNT(DISTINCT xs.account_id)
			FROM subscriptions xu JOIN seats xs ON xs.subscription_id = xu.id
			WHERE xu.org_id = ` + org + ` AND xu.application_id = ` + app
	}
	conds = append([]string{x + `.org_id = ` + org}, conds...)
	switch {
	case len(conds) == 1 && matches == "":
		q.count = countMembers(org) // no filter
	case len(conds) == 2 && f.State != "" && f.Q == "" && f.RoleID == "" && app == "":
		q.count = countMembersInState(org, f.State) // the state alone
		q.countArgs = args{f.OrgID}
	case q.count == "":
		q.count = `SELECT COUNT(*) FROM ` + from + where(conds)
	}
	if f.After != "" {
		after := a.add(f.After)
		conds = append(conds, x+`.account_id > `+after)
		if x == "m" && engine.boundsMergeJoins() {
			// The same bound on a.id lets PostgreSQL's merge join start the accounts'
			// index at the cursor, not at its beginning (20 times faster at 100,000
			// members). SQLite's nested loop needs no help, and in the driven cases the
			// bound would mislead it into driving the join from accounts.
			conds = append(conds, `a.id > `+after)
		}
		boundHolds(conds, after)
	}
	if x == "k" {
		q.page = selectPage + ` FROM memberships m JOIN accounts a ON a.id = m.account_id
			WHERE m.org_id = ` + org + ` AND m.account_id IN (
				SELECT k.account_id FROM ` + from + where(conds) + ` ORDER BY k.account_id` + limit(&a, f.Limit) + `)
			ORDER BY m.account_id`
	} else {
		q.page = selectPage + ` FROM memberships m JOIN accounts a ON a.id = m.account_id` + where(conds) +
			` ORDER BY m.account_id` + limit(&a, f.Limit)
	}
	q.pageArgs = a
	return q
}

// rareMatches is how many members of the whole store at most a needle may match for
// a search to go through SQLite's trigram index: the index lists every match of the
// store, which the search then narrows to the organization and sorts, while reading
// memberships_search in order finds the first page of a common needle at once. (A
// variable, so that tests can take either way.)
var rareMatches = 5000

// rareNeedle reports whether the needle of q is rare, for the trigram index: three
// characters or more, found in at most rareMatches members of the store (counted by
// the index, up to one more). On PostgreSQL without the index (pg_trgm could not be
// created) no needle is rare: counting would read every membership.
func (t *tx) rareNeedle(ctx context.Context, q string) (bool, error) {
	n := needle(q)
	if !trigrammable(n) {
		return false, nil
	}
	limit := strconv.Itoa(rareMatches + 1)
	query := `SELECT COUNT(*) FROM (
		SELECT rowid FROM member_trigrams WHERE member_trigrams MATCH $1 LIMIT ` + limit + `)`
	arg := ftsPhrase(n)
	if t.engine == Postgres {
		query = `SELECT CASE WHEN EXISTS (
				SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'memberships_trigrams')
			THEN (SELECT COUNT(*) FROM (SELECT 1 FROM memberships WHERE search LIKE $1 LIMIT ` + limit + `) s)
			ELSE ` + limit + ` END`
		arg = likePattern(n)
	}
	var found int
	err := t.q.QueryRowContext(ctx, query, arg).Scan(&found)
	return found <= rareMatches, err
}

// trigrammable reports whether a trigram index can look needle up: it holds three
// characters at least.
func trigrammable(needle string) bool { return utf8.RuneCountInString(needle) >= 3 }

// ftsPhrase is needle as an FTS5 phrase: the trigram tokenizer matches it as a
// substring.
func ftsPhrase(needle string) string { return `"` + strings.ReplaceAll(needle, `"`, `""`) + `"` }

// likePattern is a LIKE pattern matching the values that contain needle, its
// wildcards and escape character escaped (PostgreSQL's LIKE escapes with \ by
// default).
func likePattern(needle string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(needle) + "%"
}

// countMembers is the query of how many members the organization whose id is the
// parameter org has: the sum of its shards in organization_member_counts, which the
// triggers of migration 00009 keep.
func countMembers(org string) string {
	return `SELECT COALESCE(SUM(members), 0) FROM organization_member_counts WHERE org_id = ` + org
}

// countMembersInState is the query of how many members of the organization whose id is
// the parameter org are in state: the sum of that state's column of its shards.
func countMembersInState(org string, state account.MemberState) string {
	col := map[account.MemberState]string{
		account.MemberActive:      "active",
		account.MemberInvited:     "invited",
		account.MemberDeactivated: "deactivated",
	}[state]
	if col == "" {
		return `SELECT 0` // no membership is in another state
	}
	return `SELECT COALESCE(SUM(` + col + `), 0) FROM organization_member_counts WHERE org_id = ` + org
}

// loadMemberDetails fills the Teams and Seats of members (all of orgID), and the
// pending Invitation of the invited ones.
func (t *tx) loadMemberDetails(ctx context.Context, orgID string, members []account.Member) error {
	if err := t.loadMemberTeams(ctx, orgID, members); err != nil {
		return err
	}
	if err := t.loadMemberSeats(ctx, orgID, members); err != nil {
		return err
	}
	return t.loadMemberInvitations(ctx, orgID, members)
}

// loadMemberSeats fills the Seats of members (all of orgID) in one query, through
// seats_member (org_id, account_id, subscription_id).
func (t *tx) loadMemberSeats(ctx context.Context, orgID string, members []account.Member) error {
	if len(members) == 0 {
		return nil
	}
	byAccount := make(map[string]*[]account.MemberSeat, len(members))
	ids := make([]string, len(members))
	for i := range members {
		members[i].Seats = []account.MemberSeat{}
		byAccount[members[i].AccountID] = &members[i].Seats
		ids[i] = members[i].AccountID
	}
	var a args
	org := a.add(orgID)
	rows, err := t.q.QueryContext(ctx, `
		SELECT st.account_id, st.subscription_id, ap.key
		FROM seats st
		JOIN subscriptions su ON su.id = st.subscription_id
		JOIN applications ap ON ap.id = su.application_id
		WHERE st.org_id = `+org+` AND st.account_id IN (`+a.list(ids)+`)`, a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var accountID string
		var seat account.MemberSeat
		if err := rows.Scan(&accountID, &seat.SubscriptionID, &seat.ApplicationKey); err != nil {
			return err
		}
		if seats := byAccount[accountID]; seats != nil {
			*seats = append(*seats, seat)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range members {
		slices.SortFunc(members[i].Seats, func(a, b account.MemberSeat) int {
			if c := strings.Compare(a.ApplicationKey, b.ApplicationKey); c != 0 {
				return c
			}
			return strings.Compare(a.SubscriptionID, b.SubscriptionID)
		})
	}
	return nil
}

// loadMemberTeams fills the Teams of members (all of orgID) in one query.
func (t *tx) loadMemberTeams(ctx context.Context, orgID string, members []account.Member) error {
	if len(members) == 0 {
		return nil
	}
	byAccount := make(map[string]*[]string, len(members))
	ids := make([]string, len(members))
	for i := range members {
		members[i].Teams = []string{}
		byAccount[members[i].AccountID] = &members[i].Teams
		ids[i] = members[i].AccountID
	}
	var a args
	org := a.add(orgID)
	rows, err := t.q.QueryContext(ctx, `
		SELECT tm.account_id, t.name
		FROM team_members tm JOIN teams t ON t.id = tm.team_id AND t.org_id = `+org+`
		WHERE tm.org_id = `+org+` AND tm.account_id IN (`+a.list(ids)+`)`, a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var accountID, name string
		if err := rows.Scan(&accountID, &name); err != nil {
			return err
		}
		if teams := byAccount[accountID]; teams != nil {
			*teams = append(*teams, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range members {
		sortTeamNames(members[i].Teams)
	}
	return nil
}

// sortTeamNames sorts team names case-insensitively, as the domain does.
func sortTeamNames(names []string) {
	slices.SortFunc(names, func(a, b string) int {
		if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}

// CountMembers counts orgID's memberships by state: the sums of its shards in
// organization_member_counts, which the triggers of migrations 00009 and 00033 keep.
func (t *tx) CountMembers(ctx context.Context, orgID string) (account.MemberCounts, error) {
	var c account.MemberCounts
	err := t.q.QueryRowContext(ctx, `
		SELECT COALESCE(SUM(members), 0), COALESCE(SUM(active), 0), COALESCE(SUM(invited), 0),
			COALESCE(SUM(deactivated), 0)
		FROM organization_member_counts WHERE org_id = $1`, orgID).Scan(&c.Total, &c.Active, &c.Invited, &c.Deactivated)
	return c, err
}

// CountMembersWithRole counts orgID's memberships of roleID in state (any when empty).
func (t *tx) CountMembersWithRole(ctx context.Context, orgID, roleID string, state account.MemberState) (int, error) {
	var a args
	conds := []string{`m.org_id = ` + a.add(orgID), `m.role_id = ` + a.add(roleID)}
	if state != "" {
		conds = append(conds, `m.state = `+a.add(string(state)))
	}
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships m`+where(conds), a...).Scan(&n)
	return n, err
}
