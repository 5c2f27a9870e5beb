package account

import (
	"context"
)

// grantable are the roles a may give in its organization: the predefined roles and
// the organization's custom roles (custom) that are active and hold no permission
// beyond the actor's. assignableRole applies the same rule to the one role given;
// every screen and file that offers roles (Access, Offer, the import template)
// offers these.
func grantable(a access, custom []Role) []Role {
	var roles []Role
	for _, r := range append(PredefinedRoles(), custom...) {
		if r.Active && a.perms.Covers(r.Permissions) {
			roles = append(roles, r)
		}
	}
	return roles
}

// Offer is what an actor may give a person they admit to an organization (add,
// invite, approve a join request, import), for a form to offer only what will be
// accepted.
type Offer struct {
	Organization Organization
	// Roles are the roles the actor may give there (see Access.Grantable).
	Roles []Role
	// Teams are the organization's teams.
	Teams []Team
	// Subscriptions are, when the actor may assign seats (seats.assign), the
	// organization's subscriptions whose seats may be given: one per application,
	// the first not expired (the one in force before one to come), with its seats
	// assigned. Applications are their applications, in the same order.
	Subscriptions []Subscription
	Applications  []Application
	// RequestSeats says the actor may ask for seats (seats.request): a form may
	// then offer, for a subscription with none left, to add the person without the
	// seat and request one (AddMemberInput.RequestSeats).
	RequestSeats bool
	// Organizations are, for a partner, the organizations under it where the actor
	// may add people (members.invite there), with the roles they may give in each:
	// a person added to a partner is given a role in each of its organizations
	// (PRODUCT.md's steps), not teams or seats. At most MaxOfferOrganizations, by
	// id; MoreOrganizations counts those left out.
	Organizations     []OrganizationOffer
	MoreOrganizations int
}

// OrganizationOffer is the roles an actor may give in one organization under a
// partner.
type OrganizationOffer struct {
	Organization Organization
	Roles        []Role
}

// MaxOfferOrganizations bounds the organizations of a partner's Offer (a form of
// more would be no help; each organization has its own Add user form).
const MaxOfferOrganizations = 100

// FindOffer returns what the actor may give a person they admit to an organization
// (by id or slug), read in one transaction: the roles, teams and seats, and for a
// partner the roles in each organization under it. Needs members.invite. Errors:
// ENOTFOUND (also another tenant's organization), EFORBIDDEN.
func (s *Service) FindOffer(ctx context.Context, actor Actor, orgRef string) (o Offer, err error) {
	defer wrap(&err, "FindOffer(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermMembersInvite, func(tx Tx, a access) error {
		if o, err = s.offer(ctx, tx, a); err != nil {
			return err
		}
		if a.org.Kind != KindPartner {
			return nil
		}
		o.Organizations, o.MoreOrganizations, err = s.partnerOffer(ctx, tx, actor, a)
		return err
	})
	return o, err
}

// offer reads, in tx, what a may give in its organization.
func (s *Service) offer(ctx context.Context, tx Tx, a access) (o Offer, err error) {
	o.Organization = a.org
	custom, err := tx.CustomRoles(ctx, a.org.ID)
	if err != nil {
		return o, err
	}
	o.Roles = grantable(a, custom)
	if o.Teams, err = tx.Teams(ctx, a.org.ID); err != nil {
		return o, err
	}
	if !a.perms.Has(PermSeatsAssign) {
		return o, nil
	}
	o.RequestSeats = a.perms.Has(PermSeatsRequest)
	subs, err := tx.Subscriptions(ctx, a.org.ID)
	if err != nil {
		return o, err
	}
	seen := map[string]bool{}
	now := s.now()
	for _, sub := range subs {
		if seen[sub.ApplicationID] || sub.State(now) == SubscriptionExpired {
			continue
		}
		seen[sub.ApplicationID] = true
		app, err := tx.Application(ctx, sub.ApplicationID)
		if err != nil {
			return o, err
		}
		o.Subscriptions = append(o.Subscriptions, sub)
		o.Applications = append(o.Applications, app)
	}
	return o, nil
}

// partnerOffer is, in tx, the roles actor may give in each organization under the
// partner of a where they may add people; and how many organizations were left out
// past MaxOfferOrganizations.
func (s *Service) partnerOffer(ctx context.Context, tx Tx, actor Actor, a access) ([]OrganizationOffer, int, error) {
	f := OrganizationFilter{ParentID: a.org.ID, Limit: MaxOfferOrganizations}
	if !actor.Account.Operator {
		f.VisibleTo = actor.Account.ID
	}
	orgs, total, err := tx.FindOrganizations(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	var offers []OrganizationOffer
	for _, org := range orgs {
		ca, err := s.authorize(ctx, tx, actor, org.ID, "")
		switch {
		case ErrorCode(err) == ENOTFOUND:
			continue
		case err != nil:
			return nil, 0, err
		case !ca.perms.Has(PermMembersInvite):
			continue
		}
		custom, err := tx.CustomRoles(ctx, org.ID)
		if err != nil {
			return nil, 0, err
		}
		offers = append(offers, OrganizationOffer{Organization: ca.org, Roles: grantable(ca, custom)})
	}
	return offers, max(0, total-len(orgs)), nil
}
