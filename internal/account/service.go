package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"strings"
	"time"
)

// PasswordHasher hashes and verifies passwords (internal/password implements it).
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (bool, error)
}

// Options are the dependencies of a Service. Clock and randomness are injected so
// that expiry and tokens are testable.
type Options struct {
	Store      Store
	Hasher     PasswordHasher
	Now        func() time.Time
	Rand       io.Reader
	SessionTTL time.Duration // default 12 hours
	SetupTTL   time.Duration // lifetime of a first-operator setup link; default 24 hours
	// Renderer writes the emails of access changes; nil sends none.
	Renderer Renderer
	// BaseURL is Roster's public URL, which the links in emails start with.
	BaseURL string
	// DisableSignUp refuses POST /auth/signup: accounts come only from invitations
	// and administrators.
	DisableSignUp bool
	// CheckCacheEntries bounds the entitlement facts kept in memory (0: the default,
	// DefaultCheckCacheEntries); negative keeps none, so every check reads the store.
	CheckCacheEntries int
	// WebhooksAllowPrivate lets webhook endpoints be http URLs and private,
	// loopback or link-local addresses (tests, local receivers).
	WebhooksAllowPrivate bool
	// Resolver looks up the TXT records that verify domains; nil is the system's
	// (net.DefaultResolver).
	Resolver Resolver
}

// Service holds the use cases. Every exported method that changes something opens one
// write transaction, applies the rules, writes the change and its audit event, and
// commits; reads run on the store's readers.
type Service struct {
	store      Store
	hasher     PasswordHasher
	now        func() time.Time
	rand       io.Reader
	ids        *IDSource
	sessionTTL time.Duration
	setupTTL   time.Duration
	renderer   Renderer
	baseURL    string
	// disableSignUp refuses self-service sign-up.
	disableSignUp bool
	// checks keeps what the entitlement check reads, while the store vouches for it.
	checks *checkCache
	// webhooksAllowPrivate: see Options.WebhooksAllowPrivate.
	webhooksAllowPrivate bool
	// resolver: see Options.Resolver.
	resolver Resolver
}

// NewService returns a Service over the given dependencies.
func NewService(o Options) *Service {
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.SetupTTL <= 0 {
		o.SetupTTL = 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	return &Service{
		store:  o.Store,
		hasher: o.Hasher,
		// Microseconds: what both stores keep, so an answer equals a later read.
		now:        func() time.Time { return o.Now().UTC().Truncate(time.Microsecond) },
		rand:       o.Rand,
		ids:        NewIDSource(o.Rand, o.Now),
		sessionTTL: o.SessionTTL,
		setupTTL:   o.SetupTTL,
		renderer:   o.Renderer,
		baseURL:    strings.TrimRight(o.BaseURL, "/"),

		disableSignUp: o.DisableSignUp,
		checks:        newCheckCache(o.Store, o.CheckCacheEntries),

		webhooksAllowPrivate: o.WebhooksAllowPrivate,
		resolver:             o.Resolver,
	}
}

// Actor is who performs a use case: an authenticated account, with the session it
// used and the address it came from (for the audit trail).
type Actor struct {
	Account   Account
	SessionID string
	// AuthTime is when the person logged in to the session (its password given):
	// the auth_time of the ID tokens a sign-in with it issues, and what a sign-in's
	// max_age is measured against. Zero without a session.
	AuthTime time.Time
	IP       string
	// SCIMOrgID is set for an organization's SCIM token (see AuthenticateSCIM): the
	// actor then reaches only that organization, with the admin role's permissions at
	// most, and Account holds the token's id and "scim:<description>" as its email.
	SCIMOrgID string
}

// RequirePasswordCurrent refuses an actor who must change their password first
// (EPASSWORDRESET). Transports call it on every route except changing the password,
// reading oneself and logging out.
func (a Actor) RequirePasswordCurrent() error {
	if a.Account.MustResetPassword {
		return Errorf(EPASSWORDRESET, "the password must be changed before anything else: PUT /api/v1/me/password")
	}
	return nil
}

// access is what an actor may do in one organization.
type access struct {
	org   Organization
	perms PermissionSet
	// own are the permissions of the actor's own membership in org; viaPartner says
	// the actor's partner membership gave some of perms (see managerFor).
	own        PermissionSet
	viaPartner bool
}

func (a access) require(p Permission) error {
	if !a.perms.Has(p) {
		return Errorf(EFORBIDDEN, "this needs the %s permission in %s", p, a.org.Slug)
	}
	return nil
}

// ceiling refuses to grant, or act on holders of, permissions the actor lacks.
func (a access) ceiling(p PermissionSet, what string) error {
	if !a.perms.Covers(p) {
		return Errorf(EROLECEILING, "%s has permissions you do not hold", what)
	}
	return nil
}

// authorize resolves orgRef (id or slug) and the actor's permissions in it: all for an
// operator; otherwise the union of the actor's active role in the organization and in
// its partner. An organization the actor has no active part in is reported as not
// found, so that other tenants' organizations cannot be discovered. need, when not
// empty, must be among the permissions (else EFORBIDDEN).
func (s *Service) authorize(ctx context.Context, tx Tx, actor Actor, orgRef string, need Permission) (access, error) {
	if err := CheckText("org", orgRef); err != nil {
		return access{}, err
	}
	org, err := tx.OrganizationByRef(ctx, orgRef)
	if err != nil {
		return access{}, notFound(err, "organization")
	}
	a := access{org: org}
	if actor.SCIMOrgID != "" {
		if actor.SCIMOrgID != org.ID {
			return access{}, Errorf(ENOTFOUND, "organization not found")
		}
		admin, _ := predefinedRole(RoleAdmin)
		a.perms = admin.Permissions
	} else if actor.Account.Operator {
		a.perms = AllPermissions
	} else {
		var err error
		a, err = memberAccess(org, func(orgID string) (PermissionSet, bool, error) {
			return s.memberPermissions(ctx, tx, orgID, actor.Account.ID)
		})
		if err != nil {
			return access{}, err
		}
	}
	if need != "" {
		if err := a.require(need); err != nil {
			return access{}, err
		}
	}
	if a.org.ManageDomainAccounts {
		if a.org.ManagedDomains, err = verifiedDomainNames(ctx, tx, a.org.ID); err != nil {
			return access{}, err
		}
	}
	return a, nil
}

// verifiedDomainNames are the names of the domains orgID holds verified now, for
// Organization.ManagedDomains.
func verifiedDomainNames(ctx context.Context, tx Tx, orgID string) ([]string, error) {
	ds, err := tx.Domains(ctx, orgID)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, d := range ds {
		if d.State == DomainVerified {
			names = append(names, d.Name)
		}
	}
	return names, nil
}

// memberAccess is a member's access in org: the union of the permissions of its
// active membership in org and in org's partner, which perms returns for one
// organization (and whether there is such a membership). An organization where it
// has neither is not found.
func memberAccess(org Organization, perms func(orgID string) (PermissionSet, bool, error)) (access, error) {
	a := access{org: org}
	visible := false
	for _, id := range []string{org.ID, org.ParentID} {
		if id == "" {
			continue
		}
		p, ok, err := perms(id)
		if err != nil {
			return access{}, err
		}
		visible = visible || ok
		a.perms |= p
		if id == org.ID {
			a.own = p
		} else if ok {
			a.viaPartner = true
		}
	}
	if !visible {
		return access{}, Errorf(ENOTFOUND, "organization not found")
	}
	return a, nil
}

// readIn runs fn in one read transaction once actor is authorized in orgRef (with
// need, unless empty), handing it the actor's access there: a use case written with
// it cannot reach the organization's data before it is authorized.
func (s *Service) readIn(ctx context.Context, actor Actor, orgRef string, need Permission, fn func(tx Tx, a access) error) error {
	return s.store.Read(ctx, func(tx Tx) error {
		a, err := s.authorize(ctx, tx, actor, orgRef, need)
		if err != nil {
			return err
		}
		return fn(tx, a)
	})
}

// writeIn is readIn for a write: fn runs in one write transaction (on PostgreSQL
// maybe more than once, see Store), authorized in it.
func (s *Service) writeIn(ctx context.Context, actor Actor, orgRef string, need Permission, fn func(tx Tx, a access) error) error {
	return s.store.Write(ctx, func(tx Tx) error {
		a, err := s.authorize(ctx, tx, actor, orgRef, need)
		if err != nil {
			return err
		}
		return fn(tx, a)
	})
}

// permitted decides, before a use case looks at its input, whether actor may act in
// orgRef with every permission of need: a caller who may not act learns nothing
// from how the body would have been validated (API.md: authorization is decided
// before validation). The use case authorizes again in its own transaction.
func (s *Service) permitted(ctx context.Context, actor Actor, orgRef string, need ...Permission) error {
	return s.store.Read(ctx, func(tx Tx) error {
		a, err := s.authorize(ctx, tx, actor, orgRef, "")
		if err != nil {
			return err
		}
		for _, p := range need {
			if err := a.require(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// memberPermissions returns the permissions of accountID's active membership in orgID,
// and whether there is one.
func (s *Service) memberPermissions(ctx context.Context, tx Tx, orgID, accountID string) (PermissionSet, bool, error) {
	m, err := tx.Membership(ctx, orgID, accountID)
	if ErrorCode(err) == ENOTFOUND {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if m.State != MemberActive {
		return 0, false, nil
	}
	r, err := s.role(ctx, tx, orgID, m.RoleID)
	if err != nil {
		return 0, false, err
	}
	return r.Permissions, true, nil
}

// role returns a predefined role or a custom role of orgID.
func (s *Service) role(ctx context.Context, tx Tx, orgID, id string) (Role, error) {
	if r, ok := predefinedRole(id); ok {
		return r, nil
	}
	return tx.CustomRole(ctx, orgID, id)
}

// audit writes one audit event in tx. before and after are marshalled as JSON objects.
// An action that has a change event (eventOf) emits it beside, in the same tx.
func (s *Service) audit(ctx context.Context, tx Tx, actor Actor, orgID string, action AuditAction, targetType, targetID string, before, after any) error {
	return s.auditGone(ctx, tx, actor, orgID, action, targetType, targetID, before, after, nil)
}

// auditGone is audit for a member.removed event: gone is the member as it was.
func (s *Service) auditGone(ctx context.Context, tx Tx, actor Actor, orgID string, action AuditAction, targetType, targetID string, before, after any, gone *Member) error {
	ev, err := s.auditEvent(actor, orgID, action, targetType, targetID, before, after)
	if err != nil {
		return err
	}
	if err := tx.InsertAudit(ctx, ev); err != nil {
		return err
	}
	return s.emit(ctx, tx, ev, before, after, gone)
}

// auditEvent builds an audit event (audit writes it; bulk imports write many at once).
func (s *Service) auditEvent(actor Actor, orgID string, action AuditAction, targetType, targetID string, before, after any) (AuditEvent, error) {
	ev := AuditEvent{
		ID:         s.ids.New(),
		OrgID:      orgID,
		ActorID:    actor.Account.ID,
		ActorEmail: actor.Account.Email,
		Action:     string(action),
		TargetType: targetType,
		TargetID:   targetID,
		IP:         actor.IP,
		CreatedAt:  s.now(),
	}
	var err error
	if ev.Before, err = marshalState(before); err != nil {
		return ev, err
	}
	ev.After, err = marshalState(after)
	return ev, err
}

func marshalState(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(v)
}

// tokenBytes is the randomness of every secret token.
const tokenBytes = 32

// Prefixes of the secret tokens that travel in links: invitations, sign-up
// verifications, password resets and the first start's setup link.
const (
	InvitationTokenPrefix = invitationPrefix
	VerifyTokenPrefix     = verifyPrefix
	ResetTokenPrefix      = resetPrefix
	SetupTokenPrefix      = setupPrefix
)

// WellFormedToken reports whether token has exactly the form newToken(prefix)
// gives: the prefix, then 32 bytes in unpadded URL-safe base64 (43 characters of
// A–Z, a–z, 0–9, "-" and "_", in canonical encoding). Anything else — a path, an
// escape, a dot — is no token, and is refused before any lookup.
func WellFormedToken(prefix, token string) bool {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok || prefix == "" || len(rest) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil && len(b) == tokenBytes
}

// newToken returns a URL-safe secret of 32 random bytes and its SHA-256, the only
// form in which it is stored.
func (s *Service) newToken(prefix string) (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		panic("account: random source failed: " + err.Error())
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token)
}

// TokenHash is the stored form of a secret token.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// notFound rewrites a store's not-found error to name what, and passes others through.
func notFound(err error, what string) error {
	if ErrorCode(err) == ENOTFOUND {
		return Errorf(ENOTFOUND, "%s not found", what)
	}
	return err
}
