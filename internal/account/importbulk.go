package account

import (
	"context"
	"slices"
)

// importCounts are the rows a bulk write added.
type importCounts struct{ created, invited int }

// importNew adds, in a handful of multi-row statements, the rows' people who are new
// to Roster and get no seat: active members (send_invite: no) or invitees. It
// returns the rows left for applyRow: existing accounts, rows with applications or
// anything the rules refuse (applyRow then says why), and — when the bulk write hits
// a conflict, such as a taken username — every row, so that each finds its own
// fate. Only a store failure is an error.
func (s *Service) importNew(ctx context.Context, tx Tx, actor Actor, a access, rows []parsedRow) (importCounts, []parsedRow, error) {
	var counts importCounts
	if len(rows) == 0 {
		return counts, nil, nil
	}
	keys := make([]string, len(rows))
	for i, p := range rows {
		keys[i] = EmailKey(p.email)
	}
	known, err := tx.AccountsByEmails(ctx, keys)
	if err != nil {
		return counts, nil, err
	}
	exists := make(map[string]bool, len(known))
	for _, acct := range known {
		exists[EmailKey(acct.Email)] = true
	}
	member, _ := predefinedRole(RoleMember)
	var fast, slow []parsedRow
	for _, p := range rows {
		if p.role.ID == "" {
			p.role = member
		}
		// A row short of a required field goes slow too, where applyRow refuses it.
		short := !p.invite && checkRequired(a.org, Account{Phone: p.phone, Username: p.username}, nil) != nil
		if short || exists[EmailKey(p.email)] || len(p.apps) > 0 || p.first == "" || p.last == "" ||
			!a.perms.Has(PermMembersInvite) || !p.role.Active || !a.perms.Covers(p.role.Permissions) {
			slow = append(slow, p)
			continue
		}
		exists[EmailKey(p.email)] = true // a second row of the email (not one the runner caught) goes slow
		fast = append(fast, p)
	}
	if len(fast) == 0 {
		return counts, slow, nil
	}
	err = tx.Savepoint(ctx, func() error {
		var err error
		counts, err = s.bulkAdd(ctx, tx, actor, a, fast)
		return err
	})
	if err == nil {
		return counts, slow, nil
	}
	if ErrorCode(err) == EINTERNAL {
		return importCounts{}, nil, err
	}
	all := append(fast, slow...)
	slices.SortFunc(all, func(x, y parsedRow) int { return x.row.Row - y.row.Row })
	return importCounts{}, all, nil
}

// bulkAdd writes new people as addActive and invite would, row for row the same
// accounts, memberships, teams, invitations, emails and audit events.
func (s *Service) bulkAdd(ctx context.Context, tx Tx, actor Actor, a access, rows []parsedRow) (importCounts, error) {
	var counts importCounts
	now := s.now()
	accounts := make([]Account, 0, len(rows))
	memberships := make([]Membership, 0, len(rows))
	var teams []TeamMember
	var invitations []Invitation
	var emails []Email
	audits := make([]AuditEvent, 0, len(rows))
	afters := make([]map[string]any, 0, len(rows))
	for _, p := range rows {
		acct := Account{ID: s.ids.New(), Email: p.email, FirstName: p.first, LastName: p.last, Phone: p.phone,
			Username: p.username, State: AccountActive, ManagedBy: a.managerFor(), CreatedAt: now, UpdatedAt: now}
		ms := Membership{OrgID: a.org.ID, AccountID: acct.ID, RoleID: p.role.ID, State: MemberActive, CreatedAt: now, UpdatedAt: now}
		if p.invite {
			acct.State, ms.State = AccountPending, MemberInvited
		}
		accounts, memberships = append(accounts, acct), append(memberships, ms)
		for _, id := range p.teamIDs {
			teams = append(teams, TeamMember{TeamID: id, AccountID: acct.ID})
		}
		names := p.teamNames
		if names == nil {
			names = []string{}
		}
		after := memberState(Member{Membership: ms, Account: acct, Teams: names, Seats: []MemberSeat{}})
		action := AuditMemberAdded
		if p.invite {
			token, hash := s.newToken(invitationPrefix)
			inv := Invitation{
				ID: s.ids.New(), OrgID: a.org.ID, AccountID: acct.ID, Email: acct.Email, RoleID: p.role.ID,
				TokenHash: hash, State: InvitationPending, InviterID: actor.Account.ID, InviterName: DisplayName(actor.Account),
				ExpiresAt: now.Add(invitationTTL(a.org)), CreatedAt: now, UpdatedAt: now,
			}
			invitations = append(invitations, inv)
			n := s.notice(NoticeInvitation, a.org, actor, Member{Account: acct})
			n.Role, n.Expires, n.Link, n.Secret = p.role.Name, formatExpiry(inv.ExpiresAt), s.baseURL+"/invitations/"+token, token
			e, ok, err := s.email(a.org.ID, n)
			if err != nil {
				return counts, err
			}
			if ok {
				emails = append(emails, e)
			}
			after["invitation"], after["expires_at"] = inv.ID, inv.ExpiresAt
			action = AuditMemberInvited
			counts.invited++
		} else {
			after["account_created"] = true
			counts.created++
		}
		ev, err := s.auditEvent(actor, a.org.ID, action, "account", acct.ID, nil, after)
		if err != nil {
			return counts, err
		}
		audits, afters = append(audits, ev), append(afters, after)
	}
	if err := tx.CreateAccounts(ctx, accounts); err != nil {
		return counts, err
	}
	if err := tx.CreateMemberships(ctx, memberships, accounts); err != nil {
		return counts, err
	}
	if err := tx.AddTeamMembers(ctx, a.org.ID, teams); err != nil {
		return counts, err
	}
	if err := tx.CreateInvitations(ctx, invitations); err != nil {
		return counts, err
	}
	if err := tx.EnqueueEmails(ctx, emails); err != nil {
		return counts, err
	}
	if err := tx.InsertAudits(ctx, audits); err != nil {
		return counts, err
	}
	// Each member's events, once every row is written: with the audit's after
	// state, as audit passes it (an invitee's invitation.created comes of it), and
	// the organization as authorized (nothing of it changes in an import).
	for i, ev := range audits {
		if err := s.emitIn(ctx, tx, &a.org, ev, nil, afters[i], nil); err != nil {
			return counts, err
		}
	}
	return counts, nil
}
