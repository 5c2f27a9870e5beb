package account

import (
	"context"
	"strings"
)

// FindRoles lists the predefined roles then the organization's custom roles.
// Needs members.read (whoever sees members needs to read their roles).
func (s *Service) FindRoles(ctx context.Context, actor Actor, orgRef string) (roles []Role, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		roles, err = s.roles(ctx, tx, a)
		return err
	})
	return roles, err
}

// roles is FindRoles in tx, for an actor authorized in a (with members.read).
func (s *Service) roles(ctx context.Context, tx Tx, a access) ([]Role, error) {
	custom, err := tx.CustomRoles(ctx, a.org.ID)
	return append(PredefinedRoles(), custom...), err
}

// FindRole returns one role of the organization. Needs members.read.
func (s *Service) FindRole(ctx context.Context, actor Actor, orgRef, id string) (r Role, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		r, err = s.role(ctx, tx, a.org.ID, id)
		return notFound(err, "role")
	})
	return r, err
}

// RoleInput creates or changes a custom role; nil fields are left alone (on create,
// Active defaults to true).
type RoleInput struct {
	Name        *string
	Permissions *[]string
	Active      *bool
}

// CreateRole creates a custom role. Needs roles.manage, and its permissions within the
// actor's (else EROLECEILING). Errors: EINVALID (a predefined role's name, or one
// that looks like it), ECONFLICT (a custom role's name, or one that looks like it:
// see looksLike).
func (s *Service) CreateRole(ctx context.Context, actor Actor, orgRef string, in RoleInput) (r Role, err error) {
	defer wrap(&err, "CreateRole(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermRolesManage); err != nil {
		return r, err
	}
	if in.Name == nil {
		return r, Invalid("name", "is required")
	}
	if in.Permissions == nil {
		return r, Invalid("permissions", "is required (it may be empty)")
	}
	err = s.writeIn(ctx, actor, orgRef, PermRolesManage, func(tx Tx, a access) error {
		now := s.now()
		r = Role{ID: s.ids.New(), OrgID: a.org.ID, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := s.applyRoleInput(a, &r, in); err != nil {
			return err
		}
		if err := s.checkRoleName(ctx, tx, a.org.ID, "", r.Name); err != nil {
			return err
		}
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditRoleCreated, "role", r.ID, nil, roleState(r))
	})
	return r, err
}

// UpdateRole changes a custom role. Predefined roles are read-only (EFORBIDDEN). The
// role's current and new permissions must be within the actor's.
func (s *Service) UpdateRole(ctx context.Context, actor Actor, orgRef, id string, in RoleInput) (r Role, err error) {
	defer wrap(&err, "UpdateRole(%s, %s)", orgRef, id)
	err = s.store.Write(ctx, func(tx Tx) error {
		a, cur, err := s.customRole(ctx, tx, actor, orgRef, id)
		if err != nil {
			return err
		}
		r = cur
		if err := s.applyRoleInput(a, &r, in); err != nil {
			return err
		}
		before, after := diff(roleState(cur), roleState(r))
		if len(after) == 0 {
			return nil
		}
		if r.Name != cur.Name {
			if err := s.checkRoleName(ctx, tx, a.org.ID, r.ID, r.Name); err != nil {
				return err
			}
		}
		r.UpdatedAt = s.now()
		if err := tx.UpdateRole(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditRoleUpdated, "role", r.ID, before, after)
	})
	return r, err
}

// DeleteRole deletes a custom role no member holds (else ECONFLICT).
func (s *Service) DeleteRole(ctx context.Context, actor Actor, orgRef, id string) (err error) {
	defer wrap(&err, "DeleteRole(%s, %s)", orgRef, id)
	return s.store.Write(ctx, func(tx Tx) error {
		a, cur, err := s.customRole(ctx, tx, actor, orgRef, id)
		if err != nil {
			return err
		}
		n, err := tx.CountMembersWithRole(ctx, a.org.ID, id, "")
		if err != nil {
			return err
		}
		if n > 0 {
			return Errorf(ECONFLICT, "%d members hold role %q; give them another role first", n, cur.Name)
		}
		if err := tx.DeleteRole(ctx, a.org.ID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditRoleDeleted, "role", id, roleState(cur), nil)
	})
}

// customRole authorizes roles.manage and loads a custom role within the actor's ceiling.
func (s *Service) customRole(ctx context.Context, tx Tx, actor Actor, orgRef, id string) (access, Role, error) {
	a, err := s.authorize(ctx, tx, actor, orgRef, PermRolesManage)
	if err != nil {
		return a, Role{}, err
	}
	if _, ok := predefinedRole(id); ok {
		return a, Role{}, Errorf(EFORBIDDEN, "the predefined roles owner, admin and member cannot be changed")
	}
	r, err := tx.CustomRole(ctx, a.org.ID, id)
	if err != nil {
		return a, r, notFound(err, "role")
	}
	return a, r, a.ceiling(r.Permissions, "role "+quote(r.Name))
}

func (s *Service) applyRoleInput(a access, r *Role, in RoleInput) error {
	var v Validation
	if in.Name != nil {
		n, err := NormalizeName("name", *in.Name, true)
		addErr(&v, err)
		if _, ok := predefinedRole(strings.ToLower(n)); ok {
			v.Add("name", "is the name of a predefined role")
		}
		r.Name = n
	}
	if in.Permissions != nil {
		set, err := ParsePermissions("permissions", *in.Permissions)
		addErr(&v, err)
		r.Permissions = set
	}
	if in.Active != nil {
		r.Active = *in.Active
	}
	if err := v.Err(); err != nil {
		return err
	}
	return a.ceiling(r.Permissions, "the role")
}

func roleState(r Role) map[string]any {
	return map[string]any{"name": r.Name, "permissions": r.Permissions.Names(), "active": r.Active}
}
