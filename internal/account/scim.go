package account

import (
	"context"
	"strings"
	"time"
)

// scimTokenPrefix marks SCIM tokens, so that neither the API's session check nor the
// SCIM endpoint ever looks one kind of credential up as the other.
const scimTokenPrefix = "rc_"

// SCIMToken is an organization's credential for its identity provider: it reaches
// only that organization's SCIM endpoint. Only the token's SHA-256 is stored.
type SCIMToken struct {
	ID          string
	OrgID       string
	Description string
	Hash        []byte
	Prefix      string // the token's first characters, to tell tokens apart in lists
	CreatedBy   string // the account that created it
	CreatedAt   time.Time
	LastUsedAt  time.Time // zero when never used
	RevokedAt   time.Time // zero while valid
}

// IsSCIMToken reports whether a bearer token has the form of a SCIM token.
func IsSCIMToken(token string) bool { return strings.HasPrefix(token, scimTokenPrefix) }

// CreateSCIMToken issues a SCIM token for the organization; the token is returned
// once and only its hash kept. Needs organization.manage. Errors: EINVALID
// (description), EFORBIDDEN, ENOTFOUND.
func (s *Service) CreateSCIMToken(ctx context.Context, actor Actor, orgRef, description string) (t SCIMToken, token string, err error) {
	defer wrap(&err, "CreateSCIMToken(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermOrganizationManage); err != nil {
		return t, token, err
	}
	if description, err = NormalizeName("description", description, true); err != nil {
		return t, "", err
	}
	token, hash := s.newToken(scimTokenPrefix)
	err = s.writeIn(ctx, actor, orgRef, PermOrganizationManage, func(tx Tx, a access) error {
		t = SCIMToken{ID: s.ids.New(), OrgID: a.org.ID, Description: description, Hash: hash,
			Prefix: token[:len(scimTokenPrefix)+6], CreatedBy: actor.Account.ID, CreatedAt: s.now()}
		if err := tx.CreateSCIMToken(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditSCIMTokenCreated, "scim_token", t.ID, nil,
			map[string]any{"description": description, "prefix": t.Prefix})
	})
	return t, token, err
}

// FindSCIMTokens lists the organization's SCIM tokens, revoked ones included, newest
// first. Needs organization.manage.
func (s *Service) FindSCIMTokens(ctx context.Context, actor Actor, orgRef string) (ts []SCIMToken, err error) {
	err = s.readIn(ctx, actor, orgRef, PermOrganizationManage, func(tx Tx, a access) error {
		ts, err = tx.SCIMTokens(ctx, a.org.ID)
		return err
	})
	return ts, err
}

// Settings is what an organization's settings page shows beyond the organization:
// its SCIM tokens, and the roles domain_join_role may be (active, below owner, within
// the caller's permissions).
type Settings struct {
	SCIMTokens []SCIMToken
	JoinRoles  []Role
}

// FindSettings reads Settings in one read. Needs organization.manage.
func (s *Service) FindSettings(ctx context.Context, actor Actor, orgRef string) (st Settings, err error) {
	defer wrap(&err, "FindSettings(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermOrganizationManage, func(tx Tx, a access) error {
		if st.SCIMTokens, err = tx.SCIMTokens(ctx, a.org.ID); err != nil {
			return err
		}
		roles, err := s.roles(ctx, tx, a)
		for _, r := range roles {
			if r.Active && r.ID != RoleOwner && a.perms.Covers(r.Permissions) {
				st.JoinRoles = append(st.JoinRoles, r)
			}
		}
		return err
	})
	return st, err
}

// RevokeSCIMToken makes a token stop working at once. Needs organization.manage.
// Errors: ENOTFOUND (no such token in the organization, or revoked already).
func (s *Service) RevokeSCIMToken(ctx context.Context, actor Actor, orgRef, id string) (err error) {
	defer wrap(&err, "RevokeSCIMToken(%s, %s)", orgRef, id)
	return s.writeIn(ctx, actor, orgRef, PermOrganizationManage, func(tx Tx, a access) error {
		if err := tx.RevokeSCIMToken(ctx, a.org.ID, id, s.now()); err != nil {
			return notFound(err, "SCIM token")
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditSCIMTokenRevoked, "scim_token", id, nil, nil)
	})
}

// AuthenticateSCIM resolves a SCIM token presented to orgRef's SCIM endpoint to its
// actor, and records its use. A token of another organization, an unknown or revoked
// one, or any other kind of credential is EUNAUTHENTICATED: the answer does not tell
// whether orgRef exists.
func (s *Service) AuthenticateSCIM(ctx context.Context, orgRef, token, ip string) (Actor, error) {
	denied := Errorf(EUNAUTHENTICATED, "invalid SCIM token")
	if !IsSCIMToken(token) || len(token) > 100 {
		return Actor{}, denied
	}
	var t SCIMToken
	var org Organization
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if t, err = tx.SCIMTokenByHash(ctx, TokenHash(token)); err != nil {
			return err
		}
		org, err = tx.OrganizationByRef(ctx, orgRef)
		return err
	})
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Actor{}, denied
	case err != nil:
		return Actor{}, err
	case org.ID != t.OrgID:
		return Actor{}, denied
	}
	now := s.now()
	// Last use is kept to the minute: a busy identity provider does not turn every
	// read into a write.
	if now.Sub(t.LastUsedAt) >= time.Minute {
		if err := s.store.Write(ctx, func(tx Tx) error { return tx.TouchSCIMToken(ctx, t.ID, now) }); err != nil {
			return Actor{}, err
		}
	}
	return scimActor(t, ip), nil
}

// scimActor is the actor a SCIM token stands for: audit events name the token's id
// and description.
func scimActor(t SCIMToken, ip string) Actor {
	return Actor{Account: Account{ID: t.ID, Email: "scim:" + t.Description, FirstName: "SCIM (" + t.Description + ")"},
		IP: ip, SCIMOrgID: t.OrgID}
}
