package account

import (
	"slices"
	"strings"
)

// Permission is one thing a role allows in an organization.
type Permission string

// The permission catalogue of API.md. The order here is the order of the bits in a
// PermissionSet and the order in which permissions are listed to clients.
const (
	PermMembersRead        Permission = "members.read"
	PermMembersInvite      Permission = "members.invite"
	PermMembersManage      Permission = "members.manage"
	PermMembersRemove      Permission = "members.remove"
	PermRolesManage        Permission = "roles.manage"
	PermTeamsManage        Permission = "teams.manage"
	PermSeatsAssign        Permission = "seats.assign"
	PermSeatsRequest       Permission = "seats.request"
	PermJoinRequestsReview Permission = "join_requests.review"
	PermImportsRun         Permission = "imports.run"
	PermAuditRead          Permission = "audit.read"
	PermOrganizationManage Permission = "organization.manage"
)

// Catalogue lists every permission, in catalogue order.
var catalogue = []Permission{
	PermMembersRead, PermMembersInvite, PermMembersManage, PermMembersRemove,
	PermRolesManage, PermTeamsManage, PermSeatsAssign, PermSeatsRequest,
	PermJoinRequestsReview, PermImportsRun, PermAuditRead, PermOrganizationManage,
}

// Catalogue returns every permission in catalogue order.
func Catalogue() []Permission { return slices.Clone(catalogue) }

// PermissionSet is a set of permissions as a bit mask, so that the role ceiling
// (a subset test) is one AND.
type PermissionSet uint32

// AllPermissions holds every permission of the catalogue.
const AllPermissions PermissionSet = 1<<12 - 1

func permBit(p Permission) (PermissionSet, bool) {
	i := slices.Index(catalogue, p)
	if i < 0 {
		return 0, false
	}
	return 1 << i, true
}

// ParsePermissions turns names into a set. Unknown names, and duplicates, are
// reported as validation errors on field (with the index of the bad entry).
func ParsePermissions(field string, names []string) (PermissionSet, error) {
	var set PermissionSet
	var v Validation
	for i, n := range names {
		bit, ok := permBit(Permission(strings.TrimSpace(n)))
		switch {
		case !ok:
			v.Add(fieldIndex(field, i), "unknown permission "+quote(n))
		case set&bit != 0:
			v.Add(fieldIndex(field, i), "duplicate permission "+quote(n))
		}
		set |= bit
	}
	return set, v.Err()
}

// Has reports whether p is in the set.
func (s PermissionSet) Has(p Permission) bool {
	bit, ok := permBit(p)
	return ok && s&bit != 0
}

// Covers reports whether every permission of other is also in s: the role ceiling.
func (s PermissionSet) Covers(other PermissionSet) bool { return other&^s == 0 }

// Names lists the permissions of the set in catalogue order.
func (s PermissionSet) Names() []string {
	out := make([]string, 0, len(catalogue))
	for i, p := range catalogue {
		if s&(1<<i) != 0 {
			out = append(out, string(p))
		}
	}
	return out
}

// String is the canonical storage form: names in catalogue order, comma-separated.
func (s PermissionSet) String() string { return strings.Join(s.Names(), ",") }

// PermissionSetFromString reads the canonical storage form; unknown names are dropped
// (a permission retired from the catalogue grants nothing).
func PermissionSetFromString(text string) PermissionSet {
	var set PermissionSet
	for _, n := range strings.Split(text, ",") {
		if bit, ok := permBit(Permission(n)); ok {
			set |= bit
		}
	}
	return set
}

// The ids of the predefined roles, which exist in every organization.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// PredefinedRoles are owner, admin and member, in that order.
func PredefinedRoles() []Role {
	return []Role{
		{ID: RoleOwner, Name: "Owner", Permissions: AllPermissions, Active: true, Predefined: true},
		{ID: RoleAdmin, Name: "Admin", Permissions: AllPermissions &^ mustBit(PermOrganizationManage), Active: true, Predefined: true},
		{ID: RoleMember, Name: "Member", Permissions: 0, Active: true, Predefined: true},
	}
}

// predefinedRole returns the predefined role with id, if it is one.
func predefinedRole(id string) (Role, bool) {
	for _, r := range PredefinedRoles() {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

func mustBit(p Permission) PermissionSet {
	bit, ok := permBit(p)
	if !ok {
		panic("unknown permission " + string(p))
	}
	return bit
}

// descriptions say what each permission allows, for the catalogue clients show.
var descriptions = map[Permission]string{
	PermMembersRead:        "See the organization's members, teams and summary, and export the member list.",
	PermMembersInvite:      "Add people and send invitations.",
	PermMembersManage:      "Edit members (details, role, teams), deactivate and reactivate them.",
	PermMembersRemove:      "Remove members from the organization.",
	PermRolesManage:        "Create, edit and delete custom roles.",
	PermTeamsManage:        "Create, rename and delete teams.",
	PermSeatsAssign:        "Assign and unassign seats of the organization's subscriptions.",
	PermSeatsRequest:       "Ask the operator for more seats.",
	PermJoinRequestsReview: "Approve or deny requests to join the organization.",
	PermImportsRun:         "Import members from spreadsheets (the template, uploads and their reports).",
	PermAuditRead:          "Read the organization's audit log.",
	PermOrganizationManage: "Change the organization's name, slug and settings, and manage SCIM tokens.",
}

// Description says what p allows ("" for a permission outside the catalogue).
func (p Permission) Description() string { return descriptions[p] }

// abilities say in a few words what each permission lets a person do, for the
// emails that tell someone what their new role allows ("It lets you: …").
var abilities = map[Permission]string{
	PermMembersRead:        "see its members and teams",
	PermMembersInvite:      "invite people",
	PermMembersManage:      "edit and deactivate members",
	PermMembersRemove:      "remove members",
	PermRolesManage:        "manage roles",
	PermTeamsManage:        "manage teams",
	PermSeatsAssign:        "assign seats",
	PermSeatsRequest:       "ask for more seats",
	PermJoinRequestsReview: "review requests to join",
	PermImportsRun:         "import members from spreadsheets",
	PermAuditRead:          "read the audit log",
	PermOrganizationManage: "change its settings and SCIM tokens",
}

// Abilities says in words what the set lets a person do, one phrase a permission, in
// catalogue order; none for the empty set.
func (s PermissionSet) Abilities() []string {
	out := []string{}
	for i, p := range catalogue {
		if s&(1<<i) != 0 {
			out = append(out, abilities[p])
		}
	}
	return out
}
