package console

import (
	"net/http"
	"net/url"

	"roster.dev/roster/internal/account"
)

// teamsView is the Teams screen: the teams with their member counts, the form
// creating one, and a deletion waiting for confirmation.
type teamsView struct {
	Teams     []account.Team
	Confirm   *account.Team // the team whose deletion waits for confirmation
	Name      string        // the create form's name, kept when it fails
	Problem   *problem      // the create form's (or a deletion's) problem
	RowErrors map[string]string
	Renamed   map[string]string // team id → the name a failed rename asked for
}

// teamUsers lists a team's members on the Users screen.
func teamUsers(p *page, t account.Team) string {
	return p.base() + "/users?team=" + url.QueryEscape(t.Name)
}

func (v *teamsView) renameValue(t account.Team) string {
	if n, ok := v.Renamed[t.ID]; ok {
		return n
	}
	return t.Name
}

// teams renders the Teams screen; ?confirm=<team id> asks to confirm a deletion.
func (c *Console) teams(w http.ResponseWriter, r *http.Request, p *page) {
	v, err := c.teamsView(r, p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	if id := r.URL.Query().Get("confirm"); id != "" && p.Can(account.PermTeamsManage) {
		for i := range v.Teams {
			if v.Teams[i].ID == id {
				v.Confirm = &v.Teams[i]
			}
		}
	}
	c.render(w, r, http.StatusOK, teamsPage(p, v))
}

func (c *Console) teamsView(r *http.Request, p *page) (*teamsView, error) {
	teams, err := c.svc.FindTeams(r.Context(), p.Actor, p.Org().ID)
	if err != nil {
		return nil, err
	}
	return &teamsView{Teams: teams, RowErrors: map[string]string{}, Renamed: map[string]string{}}, nil
}

// createTeam creates a team.
func (c *Console) createTeam(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	name := formValue(r, "name")
	t, err := c.svc.CreateTeam(r.Context(), p.Actor, p.Org().ID, name)
	if err != nil {
		c.teamFailed(w, r, p, err, func(v *teamsView, prob *problem) { v.Name, v.Problem = name, prob })
		return
	}
	c.redirect(w, r, p.base()+"/teams", "Team "+t.Name+" created.")
}

// renameTeam renames a team from its row; an error is shown on the row.
func (c *Console) renameTeam(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	id, name := r.PathValue("team"), formValue(r, "name")
	t, err := c.svc.RenameTeam(r.Context(), p.Actor, p.Org().ID, id, name)
	if err != nil {
		c.teamFailed(w, r, p, err, func(v *teamsView, prob *problem) {
			msg := prob.Message
			if f := prob.field("name"); f != "" {
				msg = "The name " + f + "."
			}
			v.RowErrors[id], v.Renamed[id] = msg, name
		})
		return
	}
	c.redirect(w, r, p.base()+"/teams", "Team renamed to "+t.Name+".")
}

// deleteTeam deletes a team; its members stay in the organization.
func (c *Console) deleteTeam(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := c.svc.DeleteTeam(r.Context(), p.Actor, p.Org().ID, r.PathValue("team")); err != nil {
		c.teamFailed(w, r, p, err, func(v *teamsView, prob *problem) { v.Problem = prob })
		return
	}
	c.redirect(w, r, p.base()+"/teams", "Team deleted; its members stay in "+p.Org().Name+".")
}

// teamFailed shows the Teams screen again with err placed by show (an unknown team
// is not found).
func (c *Console) teamFailed(w http.ResponseWriter, r *http.Request, p *page, err error, show func(*teamsView, *problem)) {
	prob := c.problemOf(r.Context(), err)
	if prob.Status == http.StatusNotFound || prob.Status == http.StatusUnauthorized {
		c.fail(w, r, p, err)
		return
	}
	v, verr := c.teamsView(r, p)
	if verr != nil {
		c.fail(w, r, p, verr)
		return
	}
	show(v, prob)
	c.render(w, r, prob.Status, teamsPage(p, v))
}
