package account

import (
	"context"
	"slices"
	"strings"
)

// importResult is what applying one row did.
type importResult int

const (
	importUnchanged importResult = iota
	importCreated
	importInvited
	importUpdated
)

// importBatch caches, for one batch, what every row looks up.
type importBatch struct {
	roles []Role // every role of the organization, predefined first
	teams []Team // nil until a row names teams
}

// roleByRef finds a role by id or by name (case-insensitively): files name roles.
func (s *Service) roleByRef(ctx context.Context, tx Tx, a access, c *importBatch, ref string) (Role, error) {
	if c.roles == nil {
		custom, err := tx.CustomRoles(ctx, a.org.ID)
		if err != nil {
			return Role{}, err
		}
		c.roles = append(PredefinedRoles(), custom...)
	}
	for _, r := range c.roles {
		if r.ID == ref || strings.EqualFold(r.Name, ref) {
			return r, nil
		}
	}
	return Role{}, Invalid(ColRole, "unknown role "+quote(ref))
}

// parsedRow is a data row checked against the organization, before the store says
// whether its person exists.
type parsedRow struct {
	row                          ImportRow
	email                        string
	invite                       bool
	first, last, phone, username string
	role                         Role // zero when the row names none
	teamIDs, teamNames           []string
	apps                         []string
}

// parseImportRow checks a row's cells: the email, send_invite, names, phone and
// username, and that the role and the teams exist. Errors: EINVALID naming columns.
func (s *Service) parseImportRow(ctx context.Context, tx Tx, a access, c *importBatch, r ImportRow) (parsedRow, error) {
	var v Validation
	p := parsedRow{row: r, invite: true}
	var errE error
	p.email, errE = NormalizeEmail(ColEmail, r.Cell(ColEmail))
	addErr(&v, errE)
	switch strings.ToLower(r.Cell(ColSendInvite)) {
	case "", "yes", "y", "true", "1":
	case "no", "n", "false", "0":
		p.invite = false
	default:
		v.Add(ColSendInvite, `must be "yes" or "no"`)
	}
	var errP, errU, errF, errL error
	p.phone, errP = NormalizePhone(ColPhone, r.Cell(ColPhone))
	p.username, errU = NormalizeUsername(ColUsername, r.Cell(ColUsername))
	p.first, errF = NormalizeName(ColFirstName, r.Cell(ColFirstName), false)
	p.last, errL = NormalizeName(ColLastName, r.Cell(ColLastName), false)
	for _, err := range []error{errP, errU, errF, errL} {
		addErr(&v, err)
	}
	if r.has(ColRole) {
		var err error
		if p.role, err = s.roleByRef(ctx, tx, a, c, r.Cell(ColRole)); err != nil {
			if ErrorCode(err) != EINVALID {
				return p, err
			}
			addErr(&v, err)
		}
	}
	if teams := list(r.Cell(ColTeams)); len(teams) > 0 {
		var err error
		if c.teams == nil {
			if c.teams, err = tx.TeamRefs(ctx, a.org.ID); err != nil {
				return p, err
			}
		}
		if p.teamIDs, p.teamNames, err = teamsNamed(c.teams, teams); err != nil {
			v.Add(ColTeams, firstMessage(err))
		}
	}
	p.apps = list(r.Cell(ColApplications))
	return p, v.Err()
}

// applyRow applies one parsed row: a member is updated, anyone else is added —
// invited (send_invite yes, the default) or made an active member at once (no).
// Empty cells leave an existing member's values as they are; applications only add
// seats.
func (s *Service) applyRow(ctx context.Context, tx Tx, actor Actor, a access, p parsedRow) (importResult, error) {
	email, invite, role := p.email, p.invite, p.role
	first, last, phone, username := p.first, p.last, p.phone, p.username
	teamIDs, teamNames, apps := p.teamIDs, p.teamNames, p.apps
	acct, err := tx.AccountByEmail(ctx, EmailKey(email))
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return importUnchanged, err
	}
	if err == nil {
		if cur, err := tx.Member(ctx, a.org.ID, acct.ID); err == nil {
			return s.importUpdate(ctx, tx, actor, a, cur, role, teamNames, apps, first, last, phone, username)
		} else if ErrorCode(err) != ENOTFOUND {
			return importUnchanged, err
		}
	}

	// Someone new to this organization.
	if role.ID == "" {
		role, _ = predefinedRole(RoleMember)
	}
	if err := a.require(PermMembersInvite); err != nil {
		return importUnchanged, err
	}
	if !role.Active {
		return importUnchanged, Invalid(ColRole, "role "+quote(role.Name)+" is inactive and cannot be assigned")
	}
	if err := a.ceiling(role.Permissions, "role "+quote(role.Name)); err != nil {
		return importUnchanged, &Error{Code: EROLECEILING, Message: err.Error(), Fields: []FieldError{{Field: ColRole, Message: "is above your own role"}}}
	}
	if len(apps) > 0 {
		if err := a.require(PermSeatsAssign); err != nil {
			return importUnchanged, err
		}
	}
	var fresh Account
	if acct.ID == "" { // a person new to Roster: the row names them, unless invited
		// (as with POST …/members, an invitee gives the names left out on accepting)
		var v Validation
		if first == "" && !invite {
			v.Add(ColFirstName, "is required for a person new to Roster made a member without an invitation (send_invite no)")
		}
		if last == "" && !invite {
			v.Add(ColLastName, "is required for a person new to Roster made a member without an invitation (send_invite no)")
		}
		if err := v.Err(); err != nil {
			return importUnchanged, err
		}
		fresh = Account{FirstName: first, LastName: last, Phone: phone, Username: username}
	}
	offer := activeMember{email: email, fresh: fresh, role: role, teamIDs: teamIDs, teamNames: teamNames, apps: apps}
	if invite && acct.ID != "" {
		direct, err := s.linksByDomain(ctx, tx, actor, a, email)
		if err != nil {
			return importUnchanged, err
		}
		invite = !direct // an account the organization manages by its domain is linked at once
	}
	if invite {
		_, _, err := s.invite(ctx, tx, actor, a, offer)
		return importInvited, importField(err)
	}
	if acct.ID == "" {
		// Active at once, without a password: the person sets one with "forgot password".
		now := s.now()
		offer.fresh.ID, offer.fresh.Email, offer.fresh.State = s.ids.New(), email, AccountActive
		offer.fresh.CreatedAt, offer.fresh.UpdatedAt = now, now
	}
	// An account the organization does not manage is invited instead (no silent linking).
	m, err := s.admit(ctx, tx, actor, a, offer)
	if err == nil && m.State == MemberInvited {
		return importInvited, nil
	}
	return importCreated, importField(err)
}

// importUpdate applies a row to an existing member: the actor needs members.manage
// (and seats.assign for applications), and may not act on a role above their own.
func (s *Service) importUpdate(ctx context.Context, tx Tx, actor Actor, a access, cur Member,
	role Role, teams, apps []string, first, last, phone, username string) (importResult, error) {
	var in UpdateMemberInput
	if role.ID != "" && role.ID != cur.RoleID {
		in.Role = &role.ID
	}
	if len(teams) > 0 && !slices.Equal(teams, cur.Teams) {
		in.Teams = &teams
	}
	set := func(dst **string, v, old string) {
		if v != "" && v != old {
			*dst = &v
		}
	}
	// The profile cells apply to accounts the organization may edit; for anyone
	// else the person's own profile stands, and the cells are not even compared with
	// it (a row's result must not tell a profile the importer may not see).
	if MayEditProfile(actor, a.org, cur.Account) {
		set(&in.FirstName, first, cur.Account.FirstName)
		set(&in.LastName, last, cur.Account.LastName)
		set(&in.Phone, phone, cur.Account.Phone)
		set(&in.Username, username, cur.Account.Username)
	}
	var missing []string
	for _, app := range apps {
		if !slices.ContainsFunc(cur.Seats, func(st MemberSeat) bool { return strings.EqualFold(st.ApplicationKey, app) }) {
			missing = append(missing, app)
		}
	}
	if in == (UpdateMemberInput{}) && len(missing) == 0 {
		return importUnchanged, nil
	}
	changed := false
	if in != (UpdateMemberInput{}) {
		if err := a.require(PermMembersManage); err != nil {
			return importUnchanged, err
		}
		if err := s.canManage(ctx, tx, actor, a, cur); err != nil {
			return importUnchanged, importField(err)
		}
		m, err := s.updateMember(ctx, tx, actor, a, cur, in)
		if err != nil {
			return importUnchanged, importField(err)
		}
		changed = !memberEqual(m, cur)
	}
	if len(missing) > 0 {
		if err := a.require(PermSeatsAssign); err != nil {
			return importUnchanged, err
		}
		subs, err := s.seatsForApplications(ctx, tx, a.org.ID, missing)
		if err != nil {
			return importUnchanged, importField(err)
		}
		for _, sub := range subs {
			if err := s.assign(ctx, tx, actor, &seatScope{access: a, sub: sub}, ColApplications, cur.AccountID, false); err != nil {
				return importUnchanged, importField(err)
			}
		}
		changed = true
	}
	if !changed {
		return importUnchanged, nil
	}
	return importUpdated, nil
}

func memberEqual(a, b Member) bool {
	return a.RoleID == b.RoleID && a.Account == b.Account && slices.Equal(a.Teams, b.Teams)
}

// importField renames the API's field names in err (applications[0], teams[1]) to
// the file's columns.
func importField(err error) error {
	e, ok := AsError(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	out := &Error{Code: e.Code, Message: e.Message}
	for _, f := range e.Fields {
		if i := strings.IndexByte(f.Field, '['); i > 0 {
			f.Field = f.Field[:i]
		}
		if f.Field == "account" {
			f.Field = ColEmail
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

// firstMessage is the first field message of a validation error.
func firstMessage(err error) string {
	if e, ok := AsError(err); ok && len(e.Fields) > 0 {
		return e.Fields[0].Message
	}
	return err.Error()
}
