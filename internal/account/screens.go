package account

import (
	"context"
	"slices"
)

// MemberList is the Users screen of an organization: its counts and subscriptions,
// the roles and teams its filters offer, one page of members, and optionally one
// member.
type MemberList struct {
	Summary Summary
	Roles   []Role // predefined, then custom (as FindRoles)
	Teams   []Team
	Page    Page[Member]
	// Member is the member asked for by id; nil when none was.
	Member *Member
}

// FindMemberList returns a page's frame (FindFrame) and the Users screen of orgRef
// in one read, authorized once: what FindSummary, FindRoles, FindTeams, FindMembers
// and, with a memberID, FindMember return. Needs members.read. Errors: those of
// FindFrame, then ENOTFOUND for a memberID that is no member, then those of
// FindMembers; the frame holds what was read when an error is returned, for the
// error page to show.
func (s *Service) FindMemberList(ctx context.Context, actor Actor, orgRef string, q MemberQuery, memberID string) (f Frame, l MemberList, err error) {
	defer wrap(&err, "FindMemberList(%s)", orgRef)
	err = s.frameIn(ctx, actor, orgRef, &f, PermMembersRead, func(tx Tx, a access) error {
		if memberID != "" {
			m, err := s.member(ctx, tx, actor, a, memberID)
			if err != nil {
				return err
			}
			l.Member = &m
		}
		var err error
		if l.Summary, err = s.summary(ctx, tx, a); err != nil {
			return err
		}
		if l.Roles, err = s.roles(ctx, tx, a); err != nil {
			return err
		}
		if l.Teams, err = tx.Teams(ctx, a.org.ID); err != nil {
			return err
		}
		l.Page, err = s.findMembers(ctx, tx, actor, a, q)
		return err
	})
	return f, l, err
}

// AuditLog is the Audit log screen of an organization: one page of its events and,
// where the actor may read them (members.read), what names their targets: the
// organization's roles and teams, and the members the events are about.
type AuditLog struct {
	Page    Page[AuditEvent]
	Roles   []Role // predefined, then custom (as FindRoles)
	Teams   []Team
	Members []Member // the members among the events' account targets, in the events' order
}

// FindAuditLog returns a page's frame (FindFrame) and the Audit log screen of orgRef
// in one read, authorized once: what FindAuditEvents returns and, with members.read,
// what FindRoles, FindTeams and FindMembersByID return for the events' targets.
// Needs audit.read. Errors: those of FindFrame, then those of FindAuditEvents; the
// frame holds what was read when an error is returned, for the error page to show.
func (s *Service) FindAuditLog(ctx context.Context, actor Actor, orgRef string, q AuditQuery) (f Frame, l AuditLog, err error) {
	defer wrap(&err, "FindAuditLog(%s)", orgRef)
	err = s.frameIn(ctx, actor, orgRef, &f, PermAuditRead, func(tx Tx, a access) error {
		if err := s.auditEvents(ctx, tx, a, q, &l.Page); err != nil {
			return err
		}
		if !a.perms.Has(PermMembersRead) {
			return nil
		}
		var err error
		if l.Roles, err = s.roles(ctx, tx, a); err != nil {
			return err
		}
		if l.Teams, err = tx.Teams(ctx, a.org.ID); err != nil {
			return err
		}
		var ids []string
		for _, e := range l.Page.Items {
			if e.TargetType == "account" && e.TargetID != "" && !slices.Contains(ids, e.TargetID) {
				ids = append(ids, e.TargetID)
			}
		}
		l.Members, err = s.membersByID(ctx, tx, actor, a, ids)
		return err
	})
	return f, l, err
}
