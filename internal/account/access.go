package account

import (
	"context"
)

// Access is what an actor may do in one organization, for a screen to show only
// the actions that will succeed.
type Access struct {
	Organization Organization
	Permissions  PermissionSet
	// Grantable are the roles the actor may give: the predefined and active custom
	// roles whose permissions the actor holds (the Roles of an Offer).
	Grantable []Role
	// ManageSubscriptions is true for an operator, and for a partner's managers in
	// the organizations under the partner.
	ManageSubscriptions bool
}

// Can reports whether the access includes p.
func (a Access) Can(p Permission) bool { return a.Permissions.Has(p) }

// FindAccess returns the organization (by id or slug) and the actor's permissions in
// it. Errors: ENOTFOUND when the organization does not exist or the actor has no
// part in it (so other tenants stay invisible).
func (s *Service) FindAccess(ctx context.Context, actor Actor, orgRef string) (acc Access, err error) {
	defer wrap(&err, "FindAccess(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, "", func(tx Tx, a access) error {
		acc, err = s.accessOf(ctx, tx, actor, a)
		return err
	})
	return acc, err
}

// accessOf is FindAccess in tx, for the access a decided.
func (s *Service) accessOf(ctx context.Context, tx Tx, actor Actor, a access) (Access, error) {
	acc := Access{Organization: a.org, Permissions: a.perms}
	acc.ManageSubscriptions = a.org.Kind == KindOrganization && s.canManageSubscriptions(ctx, tx, actor, a) == nil
	custom, err := tx.CustomRoles(ctx, a.org.ID)
	if err != nil {
		return Access{}, err
	}
	acc.Grantable = grantable(a, custom)
	return acc, nil
}

// Newcomer says what adding an email to an organization would mean.
type Newcomer struct {
	Email         string // as normalised
	AccountExists bool   // names are not asked for: the account keeps its own
	Member        bool   // already in this organization (adding is a duplicate)
	Disabled      bool   // an operator disabled the account: it cannot be added
	// Invited says the person will be invited whatever send_invite says: the
	// account is neither managed by the organization nor linked by an operator.
	Invited bool
	// FirstName and LastName greet an existing account by name where the actor may
	// see its profile (the organization manages it, or the actor is an operator).
	FirstName string
	LastName  string
}

// FindNewcomer tells an administrator whether email already has an account, and
// whether it is already a member, so that a form asks for names only when they are
// needed. Needs members.invite, decided before the email is looked at. Errors:
// EINVALID for a malformed email.
func (s *Service) FindNewcomer(ctx context.Context, actor Actor, orgRef, email string) (n Newcomer, err error) {
	defer wrap(&err, "FindNewcomer(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermMembersInvite, func(tx Tx, a access) error {
		if n.Email, err = NormalizeEmail("email", email); err != nil {
			return err
		}
		acct, err := tx.AccountByEmail(ctx, n.Email)
		if ErrorCode(err) == ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		n.AccountExists, n.Disabled = true, acct.State == AccountDisabled
		linkable := Manages(a.org, acct) || actor.Account.Operator && actor.SCIMOrgID == "" && acct.State == AccountActive
		n.Invited = !linkable
		if Manages(a.org, acct) || actor.Account.Operator && actor.SCIMOrgID == "" {
			n.FirstName, n.LastName = acct.FirstName, acct.LastName
		}
		_, err = tx.Membership(ctx, a.org.ID, acct.ID)
		switch {
		case err == nil:
			n.Member = true
		case ErrorCode(err) != ENOTFOUND:
			return err
		}
		return nil
	})
	return n, err
}
