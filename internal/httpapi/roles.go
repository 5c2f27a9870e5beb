package httpapi

import (
	"context"

	"roster.dev/roster/internal/account"
)

type rolesOutput struct {
	Body List[RoleView]
}

// listRoles answers every role in one page: the predefined ones, then the
// organization's custom roles by name.
func (s *Server) listRoles(ctx context.Context, in *OrgPath) (*rolesOutput, error) {
	roles, err := s.svc.FindRoles(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &rolesOutput{Body: List[RoleView]{Items: mapSlice(roles, roleView), Total: len(roles)}}, nil
}

type roleBody struct {
	Name        *string   `json:"name"`
	Permissions *[]string `json:"permissions" doc:"Permission names of the catalogue (GET /api/v1/permissions)."`
	Active      *bool     `json:"active" doc:"Only active roles can be given to members. Default true."`
}

func (b roleBody) input() account.RoleInput {
	return account.RoleInput{Name: b.Name, Permissions: b.Permissions, Active: b.Active}
}

type createRoleInput struct {
	OrgPath
	Body roleBody
}

type roleOutput struct {
	Body RoleView
}

func roleOut(ctx context.Context, s *Server, r account.Role, err error) (*roleOutput, error) {
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &roleOutput{Body: roleView(r)}, nil
}

func (s *Server) createRole(ctx context.Context, in *createRoleInput) (*roleOutput, error) {
	r, err := s.svc.CreateRole(ctx, actorFrom(ctx), in.Org, in.Body.input())
	return roleOut(ctx, s, r, err)
}

type RolePath struct {
	OrgPath
	Role string `path:"role" doc:"The role's id (owner, admin, member, or a custom role's id)."`
}

func (s *Server) getRole(ctx context.Context, in *RolePath) (*roleOutput, error) {
	r, err := s.svc.FindRole(ctx, actorFrom(ctx), in.Org, in.Role)
	return roleOut(ctx, s, r, err)
}

type updateRoleInput struct {
	RolePath
	Body roleBody
}

func (s *Server) updateRole(ctx context.Context, in *updateRoleInput) (*roleOutput, error) {
	r, err := s.svc.UpdateRole(ctx, actorFrom(ctx), in.Org, in.Role, in.Body.input())
	return roleOut(ctx, s, r, err)
}

func (s *Server) deleteRole(ctx context.Context, in *RolePath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.DeleteRole(ctx, actorFrom(ctx), in.Org, in.Role))
}

type teamsOutput struct {
	Body List[TeamView]
}

func (s *Server) listTeams(ctx context.Context, in *OrgPath) (*teamsOutput, error) {
	teams, err := s.svc.FindTeams(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &teamsOutput{Body: List[TeamView]{Items: mapSlice(teams, teamView), Total: len(teams)}}, nil
}

type teamBody struct {
	Name string `json:"name" required:"true"`
}

type createTeamInput struct {
	OrgPath
	Body teamBody
}

type teamOutput struct {
	Body TeamView
}

func teamOut(ctx context.Context, s *Server, t account.Team, err error) (*teamOutput, error) {
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &teamOutput{Body: teamView(t)}, nil
}

func (s *Server) createTeam(ctx context.Context, in *createTeamInput) (*teamOutput, error) {
	t, err := s.svc.CreateTeam(ctx, actorFrom(ctx), in.Org, in.Body.Name)
	return teamOut(ctx, s, t, err)
}

type TeamPath struct {
	OrgPath
	Team string `path:"team" doc:"The team's id."`
}

func (s *Server) getTeam(ctx context.Context, in *TeamPath) (*teamOutput, error) {
	t, err := s.svc.FindTeam(ctx, actorFrom(ctx), in.Org, in.Team)
	return teamOut(ctx, s, t, err)
}

type renameTeamInput struct {
	TeamPath
	Body teamBody
}

func (s *Server) renameTeam(ctx context.Context, in *renameTeamInput) (*teamOutput, error) {
	t, err := s.svc.RenameTeam(ctx, actorFrom(ctx), in.Org, in.Team, in.Body.Name)
	return teamOut(ctx, s, t, err)
}

func (s *Server) deleteTeam(ctx context.Context, in *TeamPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.DeleteTeam(ctx, actorFrom(ctx), in.Org, in.Team))
}
