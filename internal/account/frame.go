package account

import (
	"context"
)

// Frame is what every console page shows around its content for the signed-in
// account: its memberships (the organization switcher and its own page), the
// applications by name, the custom roles of its memberships it may read, and its
// access in the organization the page is in.
type Frame struct {
	Memberships  []AccountMembership
	Applications []Application
	// Roles are the custom roles the account's memberships hold, each where the
	// account may read it (members.read in its organization, as FindRole needs).
	Roles []Role
	// Access is the actor's access in the organization asked for (as FindAccess
	// returns it); nil outside one.
	Access *Access
	// Partners are the partners the account administers (an active membership
	// with a role above member), each with the organizations under it, at most
	// MaxFramePartnerOrganizations of them.
	Partners []PartnerOrganizations
}

// PartnerOrganizations is a partner the account administers and the organizations
// under it; More says the partner has others than those listed.
type PartnerOrganizations struct {
	Partner       Organization
	Organizations []Organization
	More          bool
}

// MaxFramePartnerOrganizations bounds the organizations of one partner a frame
// lists: the full list is the partner's own page.
const MaxFramePartnerOrganizations = 25

// Administers reports whether a membership makes its account an administrator of
// the organization: active, with a role above member.
func Administers(m AccountMembership) bool {
	return m.State == MemberActive && m.RoleID != RoleMember
}

// FindFrame returns a page's frame in one read: the account's part, and with an
// orgRef (id or slug) the actor's access there, authorized once. Errors: those of
// FindAccess for orgRef, when the frame still holds the account's part, for the
// error page to show.
func (s *Service) FindFrame(ctx context.Context, actor Actor, orgRef string) (f Frame, err error) {
	defer wrap(&err, "FindFrame(%s)", orgRef)
	err = s.frameIn(ctx, actor, orgRef, &f, "", nil)
	return f, err
}

// frameIn reads, in one read, the frame into f: the account's part, then (with an
// orgRef) the actor's access in orgRef, authorized once; fn, when not nil, runs
// next in the same read, handed that access, which must include need (unless
// empty). f holds what was read when an error is returned.
func (s *Service) frameIn(ctx context.Context, actor Actor, orgRef string, f *Frame, need Permission, fn func(tx Tx, a access) error) error {
	return s.store.Read(ctx, func(tx Tx) error {
		if err := s.accountFrame(ctx, tx, actor, f); err != nil {
			return err
		}
		if orgRef == "" {
			return nil
		}
		a, err := s.authorize(ctx, tx, actor, orgRef, "")
		if err != nil {
			return err
		}
		acc, err := s.accessOf(ctx, tx, actor, a)
		if err != nil {
			return err
		}
		f.Access = &acc
		if need != "" {
			if err := a.require(need); err != nil {
				return err
			}
		}
		if fn == nil {
			return nil
		}
		return fn(tx, a)
	})
}

// accountFrame reads the account's memberships, the applications and the custom
// roles of the memberships the actor may read: the permissions in each organization
// come from the memberships themselves, as authorize would find them.
func (s *Service) accountFrame(ctx context.Context, tx Tx, actor Actor, f *Frame) error {
	var err error
	if f.Memberships, err = tx.MembershipsOfAccount(ctx, actor.Account.ID); err != nil {
		return err
	}
	if f.Applications, err = tx.Applications(ctx); err != nil {
		return err
	}
	for _, m := range f.Memberships {
		if m.Organization.Kind != KindPartner || !Administers(m) {
			continue
		}
		orgs, _, err := tx.FindOrganizations(ctx, OrganizationFilter{ParentID: m.OrgID, VisibleTo: actor.Account.ID,
			Limit: MaxFramePartnerOrganizations + 1, SkipTotal: true})
		if err != nil {
			return err
		}
		po := PartnerOrganizations{Partner: m.Organization, Organizations: orgs}
		if len(orgs) > MaxFramePartnerOrganizations {
			po.Organizations, po.More = orgs[:MaxFramePartnerOrganizations], true
		}
		f.Partners = append(f.Partners, po)
	}
	custom := false
	for _, m := range f.Memberships {
		if _, ok := predefinedRole(m.RoleID); !ok {
			custom = true
		}
	}
	if !custom {
		return nil
	}
	held, err := tx.CustomRolesOfAccount(ctx, actor.Account.ID)
	if err != nil {
		return err
	}
	roles := make(map[string]Role, len(held))
	for _, r := range held {
		roles[r.ID] = r
	}
	byOrg := make(map[string]Membership, len(f.Memberships))
	for _, m := range f.Memberships {
		byOrg[m.OrgID] = m.Membership
	}
	// perms is memberPermissions over the memberships read.
	perms := func(orgID string) (PermissionSet, bool, error) {
		m, ok := byOrg[orgID]
		if !ok || m.State != MemberActive {
			return 0, false, nil
		}
		if r, ok := predefinedRole(m.RoleID); ok {
			return r.Permissions, true, nil
		}
		if r, ok := roles[m.RoleID]; ok {
			return r.Permissions, true, nil
		}
		return 0, false, Errorf(ENOTFOUND, "role not found")
	}
	for _, m := range f.Memberships {
		r, ok := roles[m.RoleID]
		if !ok {
			continue
		}
		may := actor.Account.Operator
		if !may {
			a, err := memberAccess(m.Organization, perms)
			may = err == nil && a.perms.Has(PermMembersRead)
		}
		if may {
			f.Roles = append(f.Roles, r)
		}
	}
	return nil
}
