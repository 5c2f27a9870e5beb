package console

import (
	"net/http"
	"strings"

	"roster.dev/roster/internal/account"
)

// rolesView is the Roles screen: the predefined roles, the custom ones, and either
// the form creating a role or the one editing Edit.
type rolesView struct {
	Predefined []account.Role
	Custom     []account.Role
	Edit       *account.Role // the custom role being edited, if any
	Confirm    bool          // the deletion of Edit waits for confirmation
	Form       roleForm      // the values the form shows
	Problem    *problem
}

// roleForm is what the create or edit form holds, kept when it fails.
type roleForm struct {
	Name        string
	Permissions []string
	Active      bool
}

func formOfRole(r account.Role) roleForm {
	return roleForm{Name: r.Name, Permissions: r.Permissions.Names(), Active: r.Active}
}

// permissionsError is the first problem of the permissions field (the domain names
// the bad entry, as in permissions[2]).
func (v *rolesView) permissionsError() string {
	if v.Problem == nil {
		return ""
	}
	for k, msg := range v.Problem.Fields {
		if k == "permissions" || strings.HasPrefix(k, "permissions[") {
			return msg
		}
	}
	return ""
}

// roles renders the Roles screen with the form creating a role.
func (c *Console) roles(w http.ResponseWriter, r *http.Request, p *page) {
	v, err := c.rolesView(r, p, "")
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Form = roleForm{Active: true}
	c.render(w, r, http.StatusOK, rolesPage(p, v))
}

// role renders the Roles screen with one custom role's edit form; ?confirm=delete
// asks to confirm its deletion.
func (c *Console) role(w http.ResponseWriter, r *http.Request, p *page) {
	if !p.Can(account.PermRolesManage) {
		c.fail(w, r, p, account.Errorf(account.EFORBIDDEN, "you may not change roles in %s", p.Org().Name))
		return
	}
	v, err := c.rolesView(r, p, r.PathValue("role"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Form = formOfRole(*v.Edit)
	v.Confirm = r.URL.Query().Get("confirm") == "delete"
	c.render(w, r, http.StatusOK, rolesPage(p, v))
}

// rolesView loads the roles; edit names the custom role to edit (a predefined or
// unknown one is not found).
func (c *Console) rolesView(r *http.Request, p *page, edit string) (*rolesView, error) {
	roles, err := c.svc.FindRoles(r.Context(), p.Actor, p.Org().ID)
	if err != nil {
		return nil, err
	}
	v := &rolesView{}
	for i := range roles {
		if roles[i].Predefined {
			v.Predefined = append(v.Predefined, roles[i])
			continue
		}
		v.Custom = append(v.Custom, roles[i])
		if roles[i].ID == edit {
			v.Edit = &roles[i]
		}
	}
	if edit != "" && v.Edit == nil {
		return nil, account.Errorf(account.ENOTFOUND, "role not found")
	}
	return v, nil
}

// readRoleForm reads the create and edit forms.
func readRoleForm(w http.ResponseWriter, r *http.Request) (roleForm, error) {
	limitForm(w, r)
	if err := r.ParseForm(); err != nil {
		return roleForm{}, account.Invalid("permissions", "could not be read")
	}
	f := roleForm{Name: r.PostForm.Get("name"), Permissions: r.PostForm["permissions"], Active: r.PostForm.Get("active") == "on"}
	if f.Permissions == nil {
		f.Permissions = []string{}
	}
	return f, nil
}

// createRole creates a custom role; the domain keeps it within the actor's own
// permissions (403 role-ceiling, shown on the form).
func (c *Console) createRole(w http.ResponseWriter, r *http.Request, p *page) {
	f, err := readRoleForm(w, r)
	if err == nil {
		var role account.Role
		role, err = c.svc.CreateRole(r.Context(), p.Actor, p.Org().ID,
			account.RoleInput{Name: &f.Name, Permissions: &f.Permissions, Active: &f.Active})
		if err == nil {
			c.redirect(w, r, p.base()+"/roles", "Role "+role.Name+" created.")
			return
		}
	}
	c.roleFailed(w, r, p, "", f, err)
}

// updateRole saves a custom role's name, permissions and whether it is active.
func (c *Console) updateRole(w http.ResponseWriter, r *http.Request, p *page) {
	f, err := readRoleForm(w, r)
	id := r.PathValue("role")
	if err == nil {
		var role account.Role
		role, err = c.svc.UpdateRole(r.Context(), p.Actor, p.Org().ID, id,
			account.RoleInput{Name: &f.Name, Permissions: &f.Permissions, Active: &f.Active})
		if err == nil {
			msg := "Role " + role.Name + " saved."
			if !role.Active {
				msg += " It is inactive: it cannot be given to anyone until it is active again."
			}
			c.redirect(w, r, p.base()+"/roles", msg)
			return
		}
	}
	c.roleFailed(w, r, p, id, f, err)
}

// deleteRole deletes a custom role no one holds (else 409, shown on the form).
func (c *Console) deleteRole(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	id := r.PathValue("role")
	if err := c.svc.DeleteRole(r.Context(), p.Actor, p.Org().ID, id); err != nil {
		c.roleFailed(w, r, p, id, roleForm{}, err)
		return
	}
	c.redirect(w, r, p.base()+"/roles", "Role deleted.")
}

// roleFailed shows the form again with err inline (an unknown role is not found).
func (c *Console) roleFailed(w http.ResponseWriter, r *http.Request, p *page, id string, f roleForm, err error) {
	prob := c.problemOf(r.Context(), err)
	if prob.Status == http.StatusNotFound || prob.Status == http.StatusUnauthorized {
		c.fail(w, r, p, err)
		return
	}
	v, verr := c.rolesView(r, p, id)
	if verr != nil {
		c.fail(w, r, p, verr)
		return
	}
	v.Problem = prob
	v.Form = f
	if v.Edit != nil && f.Permissions == nil { // a failed deletion: show the role as it is
		v.Form = formOfRole(*v.Edit)
	}
	c.render(w, r, prob.Status, rolesPage(p, v))
}
