package account

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// CreateOrganizationInput is a new partner or organization.
type CreateOrganizationInput struct {
	Name   string
	Slug   string // derived from Name when empty
	Kind   OrgKind
	Parent string // a partner's id or slug, for an organization under a partner
}

// CreateOrganization creates a partner (operator only) or an organization (operator,
// or someone with organization.manage in the parent partner). Errors: EINVALID,
// EFORBIDDEN, ECONFLICT (slug taken).
func (s *Service) CreateOrganization(ctx context.Context, actor Actor, in CreateOrganizationInput) (o Organization, err error) {
	defer wrap(&err, "CreateOrganization")
	// Who may create decides first: the operator anywhere, a partner's managers
	// under it (an unknown or invisible parent is the body's problem, as below).
	if !actor.Account.Operator {
		if in.Parent == "" {
			return o, Errorf(EFORBIDDEN, "only an operator creates partners and organizations without a partner")
		}
		if err := s.permitted(ctx, actor, in.Parent, PermOrganizationManage); err != nil && ErrorCode(err) != ENOTFOUND {
			return o, err
		}
	}
	name, errN := NormalizeName("name", in.Name, true)
	slug := in.Slug
	if strings.TrimSpace(slug) == "" {
		slug = slugify(name)
	}
	slug, errS := NormalizeSlug("slug", slug)
	var errK error
	if in.Kind != KindPartner && in.Kind != KindOrganization {
		errK = Invalid("kind", `must be "partner" or "organization"`)
	}
	if in.Kind == KindPartner && in.Parent != "" {
		errK = Invalid("parent", "a partner cannot have a parent")
	}
	if err := collect(errN, errS, errK); err != nil {
		return o, err
	}
	now := s.now()
	o = Organization{
		ID: s.ids.New(), Kind: in.Kind, Name: name, Slug: slug,
		InvitationTTLHours: DefaultInvitationTTLHours, EndingSoonDays: DefaultEndingSoonDays,
		SCIMActivationEmail: true, DomainJoinPolicy: JoinPolicyOff, DomainJoinRole: RoleMember,
		CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		if in.Parent != "" {
			a, err := s.authorize(ctx, tx, actor, in.Parent, "")
			if ErrorCode(err) == ENOTFOUND {
				return Invalid("parent", "no such partner")
			}
			if err != nil {
				return err
			}
			if a.org.Kind != KindPartner {
				return Invalid("parent", "must be a partner")
			}
			if err := a.require(PermOrganizationManage); err != nil {
				return err
			}
			o.ParentID = a.org.ID
		} else if !actor.Account.Operator {
			return Errorf(EFORBIDDEN, "only an operator creates partners and organizations without a partner")
		}
		if err := tx.CreateOrganization(ctx, o); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, o.ID, AuditOrganizationCreated, "organization", o.ID, nil, orgState(o))
	})
	return o, err
}

// FindOrganization returns an organization the actor may see (ENOTFOUND otherwise).
func (s *Service) FindOrganization(ctx context.Context, actor Actor, ref string) (o Organization, err error) {
	err = s.store.Read(ctx, func(tx Tx) error {
		a, err := s.authorize(ctx, tx, actor, ref, "")
		o = a.org
		return err
	})
	return o, err
}

// OrganizationQuery filters FindOrganizations.
type OrganizationQuery struct {
	Q, Kind, Parent, Cursor string
	Limit                   int
}

// Page is one page of a list: the items, the cursor of the next page ("" when this is
// the last) and the number of items matching the filter on every page.
type Page[T any] struct {
	Items      []T
	NextCursor string
	Total      int
}

// FindOrganizations lists the organizations the actor may see: every one for an
// operator; else those with an active membership, and those under such partners.
func (s *Service) FindOrganizations(ctx context.Context, actor Actor, q OrganizationQuery) (p Page[Organization], err error) {
	defer wrap(&err, "FindOrganizations")
	limit, errL := pageLimit(q.Limit)
	cur, errC := decodeCursor(q.Cursor)
	var errK error
	if q.Kind != "" && q.Kind != string(KindPartner) && q.Kind != string(KindOrganization) {
		errK = Invalid("kind", `must be "partner" or "organization"`)
	}
	if err := collect(errL, errC, errK, CheckText("q", q.Q), CheckText("parent", q.Parent)); err != nil {
		return p, err
	}
	f := OrganizationFilter{Q: strings.TrimSpace(q.Q), Kind: OrgKind(q.Kind), After: cur.after, Limit: limit + 1}
	if !actor.Account.Operator {
		f.VisibleTo = actor.Account.ID
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		if q.Parent != "" {
			parent, err := tx.OrganizationByRef(ctx, q.Parent)
			if ErrorCode(err) == ENOTFOUND {
				return nil // an unknown parent has no children
			}
			if err != nil {
				return err
			}
			f.ParentID = parent.ID
		}
		items, total, err := tx.FindOrganizations(ctx, f)
		p = pageOf(items, total, limit, func(o Organization) string { return o.ID })
		return err
	})
	return p, err
}

// UpdateOrganizationInput changes an organization's name, slug or settings; nil
// fields are left alone.
type UpdateOrganizationInput struct {
	Name               *string
	Slug               *string
	InvitationTTLHours *int
	EndingSoonDays     *int
	// SCIMActivationEmail turns the activation email of SCIM-created accounts on or off.
	SCIMActivationEmail *bool
	// RequiredProfileFields replaces the profile fields the organization requires
	// (required_profile_fields): a subset of phone and username; empty requires none.
	RequiredProfileFields *[]string
	// DomainJoinPolicy is what people of the organization's verified domains may do:
	// off, suggest or auto; DomainJoinRole the role auto gives (not owner, and
	// within the caller's own permissions).
	DomainJoinPolicy *string
	DomainJoinRole   *string
	// ManageDomainAccounts turns manage_domain_accounts on or off: the organization
	// manages the accounts of its verified domains (ManagingDomain). It may be on
	// without a verified domain, and then manages none.
	ManageDomainAccounts *bool
}

// UpdateOrganization needs organization.manage. Errors: EINVALID, EFORBIDDEN,
// ENOTFOUND, ECONFLICT (slug taken).
func (s *Service) UpdateOrganization(ctx context.Context, actor Actor, ref string, in UpdateOrganizationInput) (o Organization, err error) {
	defer wrap(&err, "UpdateOrganization(%s)", ref)
	err = s.writeIn(ctx, actor, ref, PermOrganizationManage, func(tx Tx, a access) error {
		o = a.org
		if o.DomainJoinPolicy == "" { // a row written without the settings: their defaults
			o.DomainJoinPolicy = JoinPolicyOff
		}
		if o.DomainJoinRole == "" {
			o.DomainJoinRole = RoleMember
		}
		var v Validation
		if in.Name != nil {
			n, err := NormalizeName("name", *in.Name, true)
			addErr(&v, err)
			o.Name = n
		}
		if in.Slug != nil {
			sl, err := NormalizeSlug("slug", *in.Slug)
			addErr(&v, err)
			o.Slug = sl
		}
		if in.InvitationTTLHours != nil {
			if h := *in.InvitationTTLHours; h < 1 || h > 720 {
				v.Add("invitation_ttl_hours", "must be between 1 and 720 hours")
			}
			o.InvitationTTLHours = *in.InvitationTTLHours
		}
		if in.EndingSoonDays != nil {
			if d := *in.EndingSoonDays; d < 1 || d > 365 {
				v.Add("ending_soon_days", "must be between 1 and 365 days")
			}
			o.EndingSoonDays = *in.EndingSoonDays
		}
		if in.SCIMActivationEmail != nil {
			o.SCIMActivationEmail = *in.SCIMActivationEmail
		}
		if in.ManageDomainAccounts != nil {
			o.ManageDomainAccounts = *in.ManageDomainAccounts
		}
		if in.RequiredProfileFields != nil {
			var err error
			o.RequirePhone, o.RequireUsername, err = parseRequiredFields(*in.RequiredProfileFields)
			addErr(&v, err)
		}
		if in.DomainJoinPolicy != nil {
			p, err := parseJoinPolicy(*in.DomainJoinPolicy)
			addErr(&v, err)
			o.DomainJoinPolicy = p
		}
		if in.DomainJoinRole != nil {
			r, err := s.assignableRole(ctx, tx, a, "domain_join_role", *in.DomainJoinRole)
			if ErrorCode(err) == EROLECEILING || err == nil && r.ID == RoleOwner {
				err = Invalid("domain_join_role", "must be a role below owner that you could grant yourself")
			}
			if ErrorCode(err) != EINVALID && err != nil {
				return err
			}
			addErr(&v, err)
			o.DomainJoinRole = r.ID
		}
		if err := v.Err(); err != nil {
			return err
		}
		before, after := diff(orgState(a.org), orgState(o))
		if len(after) == 0 && len(before) == 0 {
			return nil
		}
		o.UpdatedAt = s.now()
		if err := tx.UpdateOrganization(ctx, o); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, o.ID, AuditOrganizationUpdated, "organization", o.ID, before, after)
	})
	return o, err
}

// DeleteOrganization deletes an organization and its memberships, roles and teams
// (the accounts survive). Only an operator, or a partner's manager for an
// organization under the partner, may. A partner with organizations is ECONFLICT.
func (s *Service) DeleteOrganization(ctx context.Context, actor Actor, ref string) (err error) {
	defer wrap(&err, "DeleteOrganization(%s)", ref)
	return s.writeIn(ctx, actor, ref, "", func(tx Tx, a access) error {
		o := a.org
		if !actor.Account.Operator {
			if o.ParentID == "" {
				return Errorf(EFORBIDDEN, "only an operator deletes this organization")
			}
			perms, _, err := s.memberPermissions(ctx, tx, o.ParentID, actor.Account.ID)
			if err != nil {
				return err
			}
			if !perms.Has(PermOrganizationManage) {
				return Errorf(EFORBIDDEN, "only an operator or the partner's managers delete this organization")
			}
		}
		if o.Kind == KindPartner {
			n, err := tx.CountChildOrganizations(ctx, o.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				return Errorf(ECONFLICT, "the partner still has %d organizations; delete or move them first", n)
			}
		}
		apps, err := tx.SubscribedApplications(ctx, o.ID) // before they go with it
		if err != nil {
			return err
		}
		if err := s.endOrganizationOIDCGrants(ctx, tx, o.ID); err != nil { // so do its sign-ins
			return err
		}
		if err := tx.DeleteOrganization(ctx, o.ID); err != nil {
			return err
		}
		if err := s.emitOrganizationDeleted(ctx, tx, actor, o, apps); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, o.ID, AuditOrganizationDeleted, "organization", o.ID, orgState(o),
			map[string]any{"applications": apps})
	})
}

func orgState(o Organization) map[string]any {
	m := map[string]any{
		"name": o.Name, "slug": o.Slug, "kind": o.Kind,
		"invitation_ttl_hours": o.InvitationTTLHours, "ending_soon_days": o.EndingSoonDays,
		"scim_activation_email": o.SCIMActivationEmail,
	}
	if fs := o.RequiredFields(); len(fs) > 0 { // absent while off, as before the setting existed
		m["required_profile_fields"] = fs
	}
	if o.DomainJoinPolicy != "" && o.DomainJoinPolicy != JoinPolicyOff { // absent while off, as before the setting existed
		m["domain_join_policy"] = o.DomainJoinPolicy
		m["domain_join_role"] = o.DomainJoinRole
	}
	if o.ManageDomainAccounts { // absent while off, as before the setting existed
		m["manage_domain_accounts"] = true
	}
	if o.ParentID != "" {
		m["parent"] = o.ParentID
	}
	return m
}

// diff returns the entries of before and after whose values differ.
func diff(before, after map[string]any) (map[string]any, map[string]any) {
	b, a := map[string]any{}, map[string]any{}
	for k, av := range after {
		if bv, ok := before[k]; !ok || !equalJSONish(bv, av) {
			a[k] = av
			if ok {
				b[k] = bv
			}
		}
	}
	for k, bv := range before {
		if _, ok := after[k]; !ok {
			b[k] = bv
		}
	}
	return b, a
}

func equalJSONish(x, y any) bool {
	xs, xok := x.([]string)
	ys, yok := y.([]string)
	if xok && yok {
		return strings.Join(xs, "\x00") == strings.Join(ys, "\x00")
	}
	if xok || yok {
		return false
	}
	return x == y
}

func addErr(v *Validation, err error) {
	if e, ok := AsError(err); ok {
		v.fields = append(v.fields, e.Fields...)
	}
}

// slugify derives a slug from a name: lower-case ASCII letters and digits, other runs
// replaced by one dash.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if len(s) > 63 {
		s = strings.TrimSuffix(s[:63], "-")
	}
	return s
}

const (
	defaultLimit = 50
	maxLimit     = 500
)

// listParams checks a list's limit, its cursor and its one enumerated filter (field,
// whose value must be empty or one of allowed), reporting every mistake at once.
func listParams(n int, cursorText, field, value string, allowed ...string) (int, cursor, error) {
	limit, errL := pageLimit(n)
	cur, errC := decodeCursor(cursorText)
	var errS error
	if value != "" && !slices.Contains(allowed, value) {
		quoted := make([]string, len(allowed))
		for i, a := range allowed {
			quoted[i] = strconv.Quote(a)
		}
		errS = Invalid(field, "must be "+strings.Join(quoted[:len(quoted)-1], ", ")+" or "+quoted[len(quoted)-1])
	}
	return limit, cur, collect(errL, errC, errS)
}

func pageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return defaultLimit, nil
	case n < 1 || n > maxLimit:
		return 0, Invalid("limit", "must be between 1 and 500")
	}
	return n, nil
}

// cursor is where the next page starts: after the key of the last item, and the
// total counted for the first page. Counting every match is the dearest part of a
// page of a large list (a search reads the whole organization's index), so later
// pages repeat the first page's total instead of counting again.
type cursor struct {
	after string
	total int // -1 when the cursor carries none
}

// Cursors are opaque to clients: the base64 of "k:<total>:<key>".
func encodeCursor(key string, total int) string {
	if key == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("k:" + strconv.Itoa(total) + ":" + key))
}

func decodeCursor(c string) (cursor, error) {
	if c == "" {
		return cursor{total: -1}, nil
	}
	bad := Invalid("cursor", "is not a cursor this server issued")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 200 {
		return cursor{}, bad
	}
	rest, ok := strings.CutPrefix(string(b), "k:")
	if !ok {
		return cursor{}, bad
	}
	n, key, ok := strings.Cut(rest, ":")
	total, err := strconv.Atoi(n)
	if !ok || err != nil || total < -1 || key == "" || TextProblem(key) != "" {
		return cursor{}, bad
	}
	return cursor{after: key, total: total}, nil
}

// pageOf cuts items (fetched with limit+1) to one page and sets the next cursor.
func pageOf[T any](items []T, total, limit int, key func(T) string) Page[T] {
	p := Page[T]{Items: items, Total: total}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = encodeCursor(key(p.Items[limit-1]), total)
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
