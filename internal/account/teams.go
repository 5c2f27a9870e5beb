package account

import "context"

// FindTeams lists the organization's teams with their member counts. Needs members.read.
func (s *Service) FindTeams(ctx context.Context, actor Actor, orgRef string) (teams []Team, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		teams, err = tx.Teams(ctx, a.org.ID)
		return err
	})
	return teams, err
}

// FindTeam returns one team. Needs members.read.
func (s *Service) FindTeam(ctx context.Context, actor Actor, orgRef, id string) (t Team, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		t, err = tx.Team(ctx, a.org.ID, id)
		return notFound(err, "team")
	})
	return t, err
}

// CreateTeam creates a team. Needs teams.manage. Errors: EINVALID, ECONFLICT (a team
// of that name, compared case-insensitively, exists, or one whose name looks like
// it: see looksLike).
func (s *Service) CreateTeam(ctx context.Context, actor Actor, orgRef, name string) (t Team, err error) {
	defer wrap(&err, "CreateTeam(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermTeamsManage); err != nil {
		return t, err
	}
	name, err = NormalizeName("name", name, true)
	if err != nil {
		return t, err
	}
	err = s.writeIn(ctx, actor, orgRef, PermTeamsManage, func(tx Tx, a access) error {
		if err := s.checkTeamName(ctx, tx, a.org.ID, "", "name", name); err != nil {
			return err
		}
		now := s.now()
		t = Team{ID: s.ids.New(), OrgID: a.org.ID, Name: name, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateTeam(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditTeamCreated, "team", t.ID, nil, map[string]any{"name": name})
	})
	return t, err
}

// RenameTeam renames a team. Needs teams.manage.
func (s *Service) RenameTeam(ctx context.Context, actor Actor, orgRef, id, name string) (t Team, err error) {
	defer wrap(&err, "RenameTeam(%s, %s)", orgRef, id)
	if err = s.permitted(ctx, actor, orgRef, PermTeamsManage); err != nil {
		return t, err
	}
	name, err = NormalizeName("name", name, true)
	if err != nil {
		return t, err
	}
	err = s.writeIn(ctx, actor, orgRef, PermTeamsManage, func(tx Tx, a access) error {
		cur, err := tx.Team(ctx, a.org.ID, id)
		if err != nil {
			return notFound(err, "team")
		}
		t = cur
		if cur.Name == name {
			return nil
		}
		if err := s.checkTeamName(ctx, tx, a.org.ID, id, "name", name); err != nil {
			return err
		}
		t.Name, t.UpdatedAt = name, s.now()
		if err := tx.UpdateTeam(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditTeamRenamed, "team", id,
			map[string]any{"name": cur.Name}, map[string]any{"name": name})
	})
	return t, err
}

// DeleteTeam deletes a team; its members stay in the organization. Needs teams.manage.
func (s *Service) DeleteTeam(ctx context.Context, actor Actor, orgRef, id string) (err error) {
	defer wrap(&err, "DeleteTeam(%s, %s)", orgRef, id)
	return s.writeIn(ctx, actor, orgRef, PermTeamsManage, func(tx Tx, a access) error {
		cur, err := tx.Team(ctx, a.org.ID, id)
		if err != nil {
			return notFound(err, "team")
		}
		if err := tx.DeleteTeam(ctx, a.org.ID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditTeamDeleted, "team", id,
			map[string]any{"name": cur.Name, "members": cur.Members}, nil)
	})
}
