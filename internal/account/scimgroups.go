package account

import (
	"context"
	"slices"
	"time"
)

// SCIMGroup is a team as SCIM shows it: its members (Value the account id, Display the
// member's name) and the identity provider's external id.
type SCIMGroup struct {
	Team
	ExternalID   string
	Members      []SCIMValue // by account id
	LastModified time.Time
}

// SCIMGroupInput is a SCIM Group as an identity provider sends it (POST, PUT, or the
// result of a PATCH). Members are account ids; ids that are not members of the
// organization are ignored, as identity providers send groups before their users.
type SCIMGroupInput struct {
	DisplayName string
	ExternalID  string
	Members     []SCIMValue // Value: the account id; Display: the name to show
}

// CreateSCIMGroup creates a team with its members. Needs teams.manage, and
// members.manage for members (within the actor's permissions). Errors: EINVALID,
// ECONFLICT (a team of that name exists, or one whose name looks like it),
// EFORBIDDEN, EROLECEILING.
func (s *Service) CreateSCIMGroup(ctx context.Context, actor Actor, orgRef string, in SCIMGroupInput) (g SCIMGroup, err error) {
	defer wrap(&err, "CreateSCIMGroup(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermTeamsManage); err != nil {
		return g, err
	}
	name, errN := NormalizeName(string(FieldName), in.DisplayName, true)
	ext, errE := NormalizeName(string(FieldExternalID), in.ExternalID, false)
	if err := collect(errN, errE); err != nil {
		return g, err
	}
	err = s.writeIn(ctx, actor, orgRef, PermTeamsManage, func(tx Tx, a access) error {
		if err := s.checkTeamName(ctx, tx, a.org.ID, "", string(FieldName), name); err != nil {
			return err
		}
		now := s.now()
		t := Team{ID: s.ids.New(), OrgID: a.org.ID, Name: name, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateTeam(ctx, t); err != nil {
			return err
		}
		if err := tx.PutSCIMGroup(ctx, a.org.ID, t.ID, &ext, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, a.org.ID, AuditTeamCreated, "team", t.ID, nil,
			map[string]any{"name": name, "external_id": ext}); err != nil {
			return err
		}
		if err := s.setGroupMembers(ctx, tx, actor, a, t, nil, in.Members); err != nil {
			return err
		}
		g, err = tx.SCIMGroup(ctx, a.org.ID, t.ID)
		return err
	})
	return g, err
}

// ReplaceSCIMGroup renames a team, sets its external id and makes its members exactly
// in.Members. Needs teams.manage, and members.manage for the members added or
// removed (within the actor's permissions).
func (s *Service) ReplaceSCIMGroup(ctx context.Context, actor Actor, orgRef, id string, in SCIMGroupInput) (SCIMGroup, error) {
	return s.PatchSCIMGroup(ctx, actor, orgRef, id, func(SCIMGroup) (SCIMGroupInput, error) { return in, nil })
}

// PatchSCIMGroup is ReplaceSCIMGroup with the new Group computed by change from the
// team's current one, in the same transaction, which holds the organization's lock:
// concurrent PATCH requests (identity providers send a group's member changes in
// parallel) apply one after the other. An error of change is returned as it is.
func (s *Service) PatchSCIMGroup(ctx context.Context, actor Actor, orgRef, id string, change func(SCIMGroup) (SCIMGroupInput, error)) (g SCIMGroup, err error) {
	defer wrap(&err, "PatchSCIMGroup(%s, %s)", orgRef, id)
	err = s.writeIn(ctx, actor, orgRef, PermTeamsManage, func(tx Tx, a access) error {
		if err := tx.LockOrganization(ctx, a.org.ID); err != nil {
			return err
		}
		cur, err := tx.SCIMGroup(ctx, a.org.ID, id)
		if err != nil {
			return notFound(err, "group")
		}
		in, err := change(cur)
		if err != nil {
			return err
		}
		name, errN := NormalizeName(string(FieldName), in.DisplayName, true)
		ext, errE := NormalizeName(string(FieldExternalID), in.ExternalID, false)
		if err := collect(errN, errE); err != nil {
			return err
		}
		now := s.now()
		if cur.Name != name {
			if err := s.checkTeamName(ctx, tx, a.org.ID, id, string(FieldName), name); err != nil {
				return err
			}
			t := cur.Team
			t.Name, t.UpdatedAt = name, now
			if err := tx.UpdateTeam(ctx, t); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, actor, a.org.ID, AuditTeamRenamed, "team", id,
				map[string]any{"name": cur.Name}, map[string]any{"name": name}); err != nil {
				return err
			}
		}
		if cur.ExternalID != ext || cur.Name != name {
			if err := tx.PutSCIMGroup(ctx, a.org.ID, id, &ext, now); err != nil {
				return err
			}
		}
		if err := s.setGroupMembers(ctx, tx, actor, a, cur.Team, cur.Members, in.Members); err != nil {
			return err
		}
		g, err = tx.SCIMGroup(ctx, a.org.ID, id)
		return err
	})
	return g, err
}

// setGroupMembers changes team t's members from have to want, in tx, and audits it.
func (s *Service) setGroupMembers(ctx context.Context, tx Tx, actor Actor, a access, t Team, have, want []SCIMValue) error {
	holds := func(vs []SCIMValue, id string) bool {
		return slices.ContainsFunc(vs, func(v SCIMValue) bool { return v.Value == id })
	}
	var add []SCIMValue
	var remove []string
	for _, v := range want {
		if v.Value != "" && !holds(have, v.Value) && !holds(add, v.Value) {
			add = append(add, v)
		}
	}
	for _, v := range have {
		if !holds(want, v.Value) {
			remove = append(remove, v.Value)
		}
	}
	if len(add) == 0 && len(remove) == 0 {
		return nil
	}
	if err := a.require(PermMembersManage); err != nil {
		return err
	}
	var added, removed []string
	var rows []TeamMember
	var named []SCIMValue
	for _, v := range add {
		m, err := tx.Member(ctx, a.org.ID, v.Value)
		if ErrorCode(err) == ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.canManage(ctx, tx, actor, a, m); err != nil {
			return err
		}
		rows = append(rows, TeamMember{TeamID: t.ID, AccountID: v.Value})
		added = append(added, v.Value)
		if v.Display != "" {
			named = append(named, v)
		}
	}
	for _, id := range remove {
		m, err := tx.Member(ctx, a.org.ID, id)
		if err != nil {
			return err
		}
		if err := s.canManage(ctx, tx, actor, a, m); err != nil {
			return err
		}
		removed = append(removed, id)
	}
	if len(rows) > 0 {
		if err := tx.AddTeamMembers(ctx, a.org.ID, rows); err != nil {
			return err
		}
		if err := tx.SetSCIMMemberDisplays(ctx, t.ID, named); err != nil {
			return err
		}
	}
	if len(removed) > 0 {
		if err := tx.RemoveTeamMembers(ctx, a.org.ID, t.ID, removed); err != nil {
			return err
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return nil
	}
	if err := tx.PutSCIMGroup(ctx, a.org.ID, t.ID, nil, s.now()); err != nil {
		return err
	}
	after := map[string]any{}
	if len(added) > 0 {
		after["added"] = added
	}
	if len(removed) > 0 {
		after["removed"] = removed
	}
	return s.audit(ctx, tx, actor, a.org.ID, AuditTeamMembersChanged, "team", t.ID, nil, after)
}

// FindSCIMGroup returns one team as SCIM shows it. Needs members.read.
func (s *Service) FindSCIMGroup(ctx context.Context, actor Actor, orgRef, id string) (g SCIMGroup, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		g, err = tx.SCIMGroup(ctx, a.org.ID, id)
		return notFound(err, "group")
	})
	return g, err
}

// FindSCIMGroups returns a page of the teams matching q.Filter and how many match.
// Needs members.read. Errors: EINVALID (field "filter").
func (s *Service) FindSCIMGroups(ctx context.Context, actor Actor, orgRef string, q SCIMQuery) (gs []SCIMGroup, total int, err error) {
	defer wrap(&err, "FindSCIMGroups(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		q.OrgID = a.org.ID
		gs, total, err = tx.FindSCIMGroups(ctx, q)
		return err
	})
	return gs, total, err
}
