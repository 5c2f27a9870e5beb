package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
)

// Role and team names that look the same are the same name: "Аdmin" with a Cyrillic
// А is refused beside "Admin", as "Admin" is beside "admin", so that no name in a
// member list, an email or an identity provider's group can pass for another.
//
// Looking the same is having the same skeleton (UTS #39, "Confusable Detection":
// NFD, each character mapped by the confusables table, NFD again), compared without
// case. Unicode's skeletons are case-sensitive, and the table maps some capitals to
// lower-case letters that look like them (I to l), so the comparison is made twice:
// the (case-folded) skeletons of the case-folded names ("ADMIN" and "аdmin" both
// give "adrnin"),
// and the case-folded skeletons of the names ("Ill" and "lll" both give "lll"). The
// table is Unicode 13.0.0's confusables.txt, as github.com/mtibben/confusables
// ships it.

// nameLook is the two keys that tell whether two names look the same.
type nameLook struct{ folded, skeleton string }

var folder = cases.Fold()

func lookOf(name string) nameLook {
	return nameLook{
		folded:   folder.String(confusables.Skeleton(folder.String(name))),
		skeleton: folder.String(confusables.Skeleton(name)),
	}
}

// looksLike tells whether names a and b look the same (or are equal but for case).
func looksLike(a, b string) bool {
	la, lb := lookOf(a), lookOf(b)
	return la.folded == lb.folded || la.skeleton == lb.skeleton
}

// confusableName is the answer to a name that looks like another's: the conflict a
// name already taken gets, naming the field and the name it looks like.
// A name equal but for case gets the very answer of the store's unique index.
func confusableName(field, kind, name, other string) *Error {
	if strings.ToLower(name) == strings.ToLower(other) {
		e := Errorf(ECONFLICT, "%s: %s is already taken", kind, field)
		e.Fields = []FieldError{{Field: field, Message: "already taken"}}
		return e
	}
	e := Errorf(ECONFLICT, "%s: %s is already taken: %q looks like the %s %q", kind, field, name, kind, other)
	e.Fields = []FieldError{{Field: field, Message: fmt.Sprintf("looks like the %s %q, already in the organization", kind, other)}}
	return e
}

// checkRoleName refuses a custom role name of orgID that looks like a predefined
// role's (EINVALID, as the predefined names themselves are) or another custom
// role's (ECONFLICT); selfID is the role being renamed, or empty. It takes the
// organization's lock, so that two names that look alike cannot be written at once.
func (s *Service) checkRoleName(ctx context.Context, tx Tx, orgID, selfID, name string) error {
	for _, r := range PredefinedRoles() {
		if looksLike(name, r.Name) || looksLike(name, r.ID) {
			return Invalid("name", fmt.Sprintf("is, or looks like, the name of the predefined role %q", r.Name))
		}
	}
	if err := tx.LockOrganization(ctx, orgID); err != nil {
		return err
	}
	roles, err := tx.CustomRoles(ctx, orgID)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if r.ID != selfID && looksLike(name, r.Name) {
			return confusableName("name", "role", name, r.Name)
		}
	}
	return nil
}

// checkTeamName refuses a team name of orgID that looks like another team's
// (ECONFLICT naming field); selfID is the team being renamed, or empty. It takes
// the organization's lock (see checkRoleName).
func (s *Service) checkTeamName(ctx context.Context, tx Tx, orgID, selfID, field, name string) error {
	if err := tx.LockOrganization(ctx, orgID); err != nil {
		return err
	}
	teams, err := tx.Teams(ctx, orgID)
	if err != nil {
		return err
	}
	for _, t := range teams {
		if t.ID != selfID && looksLike(name, t.Name) {
			return confusableName(field, "team", name, t.Name)
		}
	}
	return nil
}
