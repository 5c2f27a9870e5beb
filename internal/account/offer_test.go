package account_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// orgUnder creates an organization of kind under parent ("" for none).
func (r *rules) orgUnder(kind account.OrgKind, slug, parent string) account.Organization {
	r.t.Helper()
	o, err := r.svc.CreateOrganization(r.ctx, r.op, account.CreateOrganizationInput{Name: "Org " + slug, Slug: slug, Kind: kind, Parent: parent})
	if err != nil {
		r.t.Fatalf("create %s: %v", slug, err)
	}
	return o
}

// role creates a custom role of org with perms, deactivated unless active.
func (r *rules) role(org account.Organization, name string, active bool, perms ...account.Permission) account.Role {
	r.t.Helper()
	names := make([]string, len(perms))
	for i, p := range perms {
		names[i] = string(p)
	}
	role, err := r.svc.CreateRole(r.ctx, r.op, org.Slug, account.RoleInput{Name: &name, Permissions: &names})
	if err != nil {
		r.t.Fatalf("create role %s: %v", name, err)
	}
	if !active {
		if role, err = r.svc.UpdateRole(r.ctx, r.op, org.Slug, role.ID, account.RoleInput{Active: &active}); err != nil {
			r.t.Fatalf("deactivate role %s: %v", name, err)
		}
	}
	return role
}

// subscription gives org a subscription of seats to the application key (created
// when new) from starts for days.
func (r *rules) subscription(org account.Organization, key string, seats int, starts time.Time, days int) account.Subscription {
	r.t.Helper()
	if _, err := r.svc.FindApplication(r.ctx, r.op, key); account.ErrorCode(err) == account.ENOTFOUND {
		if _, err := r.svc.CreateApplication(r.ctx, r.op, account.ApplicationInput{Key: key, Name: "App " + key}); err != nil {
			r.t.Fatal(err)
		}
	}
	_, sub, err := r.svc.CreateSubscription(r.ctx, r.op, org.Slug, account.SubscriptionInput{Application: key, Seats: &seats,
		StartsAt: starts, EndsAt: starts.Add(time.Duration(days) * 24 * time.Hour)})
	if err != nil {
		r.t.Fatal(err)
	}
	return sub
}

func roleNames(roles []account.Role) []string {
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

// TestFindOffer: what an actor may give a person they admit, in one read. The roles
// are those within the actor's own permissions and active (a custom role above the
// actor's, or deactivated, is offered to nobody); the organization's teams; with
// seats.assign one subscription per application, the first not expired, with its
// seats. A partner's offer has the roles of each of its organizations — not of
// another partner's. Another tenant's organization is not found; who may not
// invite is refused. FindAccess's Grantable and the import template's roles are
// the same roles.
func TestFindOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		acme, globex := r.orgUnder(account.KindOrganization, "acme", ""), r.orgUnder(account.KindOrganization, "globex", "")
		inviterRole := r.role(acme, "Inviter", true, account.PermMembersRead, account.PermMembersInvite, account.PermImportsRun)
		r.role(acme, "Manager", true, account.PermMembersRead, account.PermMembersInvite, account.PermMembersManage)
		r.role(acme, "Retired", false, account.PermMembersRead)
		for _, team := range []string{"Sales", "Ops"} {
			if _, err := r.svc.CreateTeam(r.ctx, r.op, acme.Slug, team); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().UTC()
		r.subscription(acme, "alpha", 3, now.Add(-60*24*time.Hour), 30) // expired
		alpha := r.subscription(acme, "alpha", 5, now.Add(-time.Hour), 30)
		r.subscription(acme, "alpha", 7, now.Add(29*24*time.Hour), 30) // the renewal to come: alpha is offered once
		beta := r.subscription(acme, "beta", 2, now.Add(24*time.Hour), 30)
		r.subscription(acme, "gamma", 4, now.Add(-60*24*time.Hour), 30) // expired only
		_, admin := r.member(r.op, acme, account.RoleAdmin)
		seated, _ := r.member(r.op, acme, account.RoleMember)
		if _, _, err := r.svc.AssignSeat(r.ctx, r.op, acme.Slug, alpha.ID, seated.AccountID); err != nil {
			t.Fatal(err)
		}
		_, inviter := r.member(r.op, acme, inviterRole.ID)
		_, member := r.member(r.op, acme, account.RoleMember)
		_, globexAdmin := r.member(r.op, globex, account.RoleAdmin)

		northwind := r.orgUnder(account.KindPartner, "northwind", "")
		nwA, nwB := r.orgUnder(account.KindOrganization, "nw-a", northwind.Slug), r.orgUnder(account.KindOrganization, "nw-b", northwind.Slug)
		r.role(nwA, "Auditor", true, account.PermMembersRead, account.PermAuditRead)
		r.role(nwA, "Boss", true, account.PermOrganizationManage)
		southwind := r.orgUnder(account.KindPartner, "southwind", "")
		r.orgUnder(account.KindOrganization, "sw-a", southwind.Slug)
		_, pat := r.member(r.op, northwind, account.RoleAdmin)
		if _, err := r.svc.AddMember(r.ctx, r.op, nwB.Slug, account.AddMemberInput{Email: pat.Account.Email, Role: account.RoleOwner, SendInvite: ptrTo(false)}); err != nil {
			t.Fatalf("pat as nw-b's owner: %v", err)
		}
		_, sam := r.member(r.op, southwind, account.RoleAdmin)

		type orgRoles map[string][]string // slug: role names
		cases := []struct {
			name  string
			actor account.Actor
			org   string
			code  string
			roles []string
			teams []string
			// subs are the subscriptions offered, as application key: subscription id.
			subs map[string]string
			orgs orgRoles
		}{
			{name: "an admin: the roles within theirs, the teams, a subscription per application",
				actor: admin, org: acme.Slug, roles: []string{"Admin", "Inviter", "Manager", "Member"}, teams: []string{"Ops", "Sales"},
				subs: map[string]string{"alpha": alpha.ID, "beta": beta.ID}},
			{name: "by id as by slug", actor: admin, org: acme.ID, roles: []string{"Admin", "Inviter", "Manager", "Member"},
				teams: []string{"Ops", "Sales"}, subs: map[string]string{"alpha": alpha.ID, "beta": beta.ID}},
			{name: "a custom role's holder: a custom role above theirs is not offered, nor seats without seats.assign",
				actor: inviter, org: acme.Slug, roles: []string{"Inviter", "Member"}, teams: []string{"Ops", "Sales"}},
			{name: "the operator: every role but the deactivated one",
				actor: r.op, org: acme.Slug, roles: []string{"Admin", "Inviter", "Manager", "Member", "Owner"}, teams: []string{"Ops", "Sales"},
				subs: map[string]string{"alpha": alpha.ID, "beta": beta.ID}},
			{name: "a member who may not invite", actor: member, org: acme.Slug, code: account.EFORBIDDEN},
			{name: "an admin of another organization", actor: globexAdmin, org: acme.Slug, code: account.ENOTFOUND},
			{name: "an admin of another organization, by id", actor: globexAdmin, org: acme.ID, code: account.ENOTFOUND},
			{name: "an organization that does not exist", actor: admin, org: "nowhere", code: account.ENOTFOUND},
			{name: "a partner admin: the roles in each of the partner's organizations",
				actor: pat, org: northwind.Slug, roles: []string{"Admin", "Member"},
				orgs: orgRoles{"nw-a": {"Admin", "Auditor", "Member"}, "nw-b": {"Admin", "Member", "Owner"}}},
			{name: "a partner admin in one of its organizations", actor: pat, org: nwA.Slug, roles: []string{"Admin", "Auditor", "Member"}},
			{name: "the operator over a partner", actor: r.op, org: northwind.Slug, roles: []string{"Admin", "Member", "Owner"},
				orgs: orgRoles{"nw-a": {"Admin", "Auditor", "Boss", "Member", "Owner"}, "nw-b": {"Admin", "Member", "Owner"}}},
			{name: "another partner's admin", actor: sam, org: northwind.Slug, code: account.ENOTFOUND},
			{name: "another partner's admin in one of its organizations", actor: sam, org: nwA.Slug, code: account.ENOTFOUND},
			{name: "an organization's admin over a partner", actor: globexAdmin, org: northwind.Slug, code: account.ENOTFOUND},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				o, err := r.svc.FindOffer(r.ctx, c.actor, c.org)
				wantCode(t, "FindOffer", err, c.code)
				if c.code != "" {
					if o.Organization.ID != "" || o.Roles != nil || o.Teams != nil || o.Subscriptions != nil || o.Organizations != nil {
						t.Errorf("a refused offer holds %+v", o)
					}
					return
				}
				if got := roleNames(o.Roles); !slices.Equal(got, c.roles) {
					t.Errorf("roles %v, want %v", got, c.roles)
				}
				var teams []string
				for _, tm := range o.Teams {
					teams = append(teams, tm.Name)
				}
				slices.Sort(teams)
				if !slices.Equal(teams, c.teams) {
					t.Errorf("teams %v, want %v", teams, c.teams)
				}
				subs := map[string]string{}
				for i, s := range o.Subscriptions {
					subs[s.ApplicationKey] = s.ID
					if o.Applications[i].Key != s.ApplicationKey {
						t.Errorf("subscription %d is of %s, its application %s", i, s.ApplicationKey, o.Applications[i].Key)
					}
					if s.ID == alpha.ID && (s.Seats != 5 || s.Assigned != 1) {
						t.Errorf("alpha offered with %d of %d seats assigned, want 1 of 5", s.Assigned, s.Seats)
					}
				}
				if len(o.Applications) != len(o.Subscriptions) {
					t.Errorf("%d applications for %d subscriptions", len(o.Applications), len(o.Subscriptions))
				}
				if c.subs == nil {
					c.subs = map[string]string{}
				}
				if fmt.Sprint(subs) != fmt.Sprint(c.subs) {
					t.Errorf("subscriptions %v, want %v", subs, c.subs)
				}
				orgs := orgRoles{}
				for _, oo := range o.Organizations {
					orgs[oo.Organization.Slug] = roleNames(oo.Roles)
				}
				if c.orgs == nil {
					c.orgs = orgRoles{}
				}
				if fmt.Sprint(orgs) != fmt.Sprint(c.orgs) {
					t.Errorf("organizations %v, want %v", orgs, c.orgs)
				}
				if o.MoreOrganizations != 0 {
					t.Errorf("%d more organizations, want none", o.MoreOrganizations)
				}
				// One computation of the roles one may give: FindAccess's, and the
				// import template's for whoever may import.
				acc, err := r.svc.FindAccess(r.ctx, c.actor, c.org)
				if err != nil {
					t.Fatal(err)
				}
				if got := roleNames(acc.Grantable); !slices.Equal(got, c.roles) {
					t.Errorf("FindAccess's grantable roles %v, want the offer's %v", got, c.roles)
				}
				if !acc.Can(account.PermImportsRun) {
					return
				}
				imp, err := r.svc.FindImportOffer(r.ctx, c.actor, c.org)
				if err != nil {
					t.Fatal(err)
				}
				if got := roleNames(imp.Roles); !slices.Equal(got, c.roles) {
					t.Errorf("the import template's roles %v, want the offer's %v", got, c.roles)
				}
				if len(imp.Teams) != len(o.Teams) || len(imp.Applications) != len(o.Applications) {
					t.Errorf("the import template offers %d teams and %d applications, the offer %d and %d",
						len(imp.Teams), len(imp.Applications), len(o.Teams), len(o.Applications))
				}
			})
		}
	})
}

// TestFindOfferManyOrganizations: a partner's offer lists at most
// MaxOfferOrganizations of its organizations and counts those left out.
func TestFindOfferManyOrganizations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		p := r.orgUnder(account.KindPartner, "bigpartner", "")
		for i := range account.MaxOfferOrganizations + 2 {
			r.orgUnder(account.KindOrganization, fmt.Sprintf("child-%03d", i), p.Slug)
		}
		o, err := r.svc.FindOffer(r.ctx, r.op, p.Slug)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Organizations) != account.MaxOfferOrganizations || o.MoreOrganizations != 2 {
			t.Errorf("%d organizations offered and %d more, want %d and 2", len(o.Organizations), o.MoreOrganizations, account.MaxOfferOrganizations)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
