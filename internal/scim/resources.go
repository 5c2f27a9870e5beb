package scim

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"roster.dev/roster/internal/account"
)

// Schema URNs.
const (
	userSchema     = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema    = "urn:ietf:params:scim:schemas:core:2.0:Group"
	listSchema     = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	errorSchema    = "urn:ietf:params:scim:api:messages:2.0:Error"
	patchSchema    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	enterpriseURN  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	timeFormatSCIM = "2006-01-02T15:04:05.000Z07:00"
)

// kept are the User attributes Roster stores verbatim (in SCIMUserData.Extra) and
// returns as they were given, by canonical name.
var kept = []string{"nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone",
	"addresses", "ims", "photos", "entitlements", "x509Certificates"}

// field returns m's value for name, whose case does not matter (SCIM attribute
// names are case-insensitive).
func field(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// deleteField removes name from m, in any case.
func deleteField(m map[string]any, name string) {
	for k := range m {
		if strings.EqualFold(k, name) {
			delete(m, k)
		}
	}
}

// setField sets name in m, replacing a key of another case.
func setField(m map[string]any, name string, v any) {
	for k := range m {
		if strings.EqualFold(k, name) && k != name {
			delete(m, k)
		}
	}
	m[name] = v
}

func str(m map[string]any, name string) string {
	v, _ := field(m, name)
	return scalarText(v)
}

func obj(m map[string]any, name string) map[string]any {
	v, _ := field(m, name)
	o, _ := v.(map[string]any)
	return o
}

// boolean reads a SCIM boolean, which identity providers also send as "True".
func boolean(v any, def bool) (bool, bool) {
	switch x := v.(type) {
	case nil:
		return def, true
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return def, false
}

// values reads a multi-valued attribute: a list of objects with value, type,
// display (or displayName) and primary, or a bare string (one value).
func values(v any) []account.SCIMValue {
	var out []account.SCIMValue
	add := func(x any) {
		switch e := x.(type) {
		case string:
			out = append(out, account.SCIMValue{Value: e})
		case map[string]any:
			d := str(e, "display")
			if d == "" {
				d = str(e, "displayName")
			}
			p, _ := field(e, "primary")
			primary, _ := boolean(p, false)
			out = append(out, account.SCIMValue{Value: str(e, "value"), Type: str(e, "type"), Display: d, Primary: primary})
		}
	}
	if list, ok := v.([]any); ok {
		for _, x := range list {
			add(x)
		}
	} else if v != nil {
		add(v)
	}
	return out
}

// distinct collapses the values of a multi-valued attribute that have the same type
// and value (in any case), and refuses two primary values (RFC 7643 §2.4).
func distinct(attr string, vs []account.SCIMValue) ([]account.SCIMValue, error) {
	var out []account.SCIMValue
	primary := false
	for _, v := range vs {
		i := slices.IndexFunc(out, func(o account.SCIMValue) bool {
			return strings.EqualFold(o.Value, v.Value) && strings.EqualFold(o.Type, v.Type)
		})
		if i >= 0 {
			if v.Primary && !out[i].Primary {
				if primary {
					return nil, invalidValue(attr + " may have one primary value only")
				}
				out[i].Primary, primary = true, true
			}
			if out[i].Display == "" {
				out[i].Display = v.Display
			}
			continue
		}
		if v.Primary {
			if primary {
				return nil, invalidValue(attr + " may have one primary value only")
			}
			primary = true
		}
		out = append(out, v)
	}
	return out, nil
}

// userInput reads a User resource. Errors: invalidValue problems.
func userInput(m map[string]any) (account.SCIMUserInput, error) {
	var in account.SCIMUserInput
	un, _ := field(m, "userName")
	if s, ok := un.(string); ok {
		in.UserName = s
	} else if un != nil {
		return in, invalidValue("userName must be a string")
	}
	in.ExternalID = str(m, "externalId")
	in.DisplayName = str(m, "displayName")
	name := obj(m, "name")
	in.GivenName, in.FamilyName, in.Formatted = str(name, "givenName"), str(name, "familyName"), str(name, "formatted")
	act, _ := field(m, "active")
	active, ok := boolean(act, true)
	if !ok {
		return in, invalidValue("active must be true or false")
	}
	in.Active = active
	var err error
	em, _ := field(m, "emails")
	if in.Emails, err = distinct("emails", values(em)); err != nil {
		return in, err
	}
	ph, _ := field(m, "phoneNumbers")
	if in.Phones, err = distinct("phoneNumbers", values(ph)); err != nil {
		return in, err
	}
	ro, _ := field(m, "roles")
	for _, r := range values(ro) {
		if in.Role == "" || r.Primary {
			in.Role = r.Value
		}
	}
	if ent := obj(m, enterpriseURN); ent != nil {
		in.Department, in.EmployeeNumber = str(ent, "department"), str(ent, "employeeNumber")
		mg, _ := field(ent, "manager")
		switch x := mg.(type) {
		case string:
			in.Manager = x
		case map[string]any:
			in.Manager = str(x, "value")
		case []any: // Entra ID adds a manager as a list of one reference
			if len(x) > 0 {
				in.Manager = valueOf(x[0])
			}
		}
	}
	extra := map[string]any{}
	for _, k := range kept {
		if v, ok := field(m, k); ok && v != nil {
			if list, isList := v.([]any); isList {
				n := 0
				for _, x := range list {
					if e, ok := x.(map[string]any); ok && isPrimary(e) {
						n++
					}
				}
				if n > 1 {
					return in, invalidValue(k + " may have one primary value only")
				}
			}
			extra[k] = v
		}
	}
	if len(extra) > 0 {
		b, err := json.Marshal(extra)
		if err != nil {
			return in, invalidValue("unreadable attributes")
		}
		in.Extra = b
	}
	return in, nil
}

// userResource renders a member as a SCIM User. Attributes without a value are left
// out; displayName and name.formatted default to the given and family names.
func userResource(u account.SCIMUser, location string) map[string]any {
	return renderUser(u, location, true)
}

// patchBase is the User a PATCH applies to: what is stored, without the defaults
// userResource shows (which would otherwise be stored as if the identity provider
// had sent them).
func patchBase(u account.SCIMUser) map[string]any {
	return roundTrip(renderUser(u, "", false))
}

func renderUser(u account.SCIMUser, location string, defaults bool) map[string]any {
	d := u.Data
	acct := u.Account
	// The identity provider's names where it gave them, else the account's (which
	// the service has redacted where the organization may not see them).
	given, family := cmp.Or(d.GivenName, acct.FirstName), cmp.Or(d.FamilyName, acct.LastName)
	display, formatted := d.DisplayName, d.Formatted
	if defaults {
		full := strings.TrimSpace(given + " " + family)
		display, formatted = cmp.Or(display, full), cmp.Or(formatted, full)
	}
	r := map[string]any{
		"schemas":  []string{userSchema},
		"id":       u.AccountID,
		"userName": u.UserName(),
		"active":   scimActive(u.Member),
		"roles":    []any{map[string]any{"value": u.RoleID, "primary": true}},
		"meta": map[string]any{
			"resourceType": "User",
			"created":      u.CreatedAt.Format(timeFormatSCIM),
			"lastModified": u.LastModified().Format(timeFormatSCIM),
			"location":     location,
		},
	}
	name := map[string]any{}
	for k, v := range map[string]string{"givenName": given, "familyName": family, "formatted": formatted} {
		if v != "" {
			name[k] = v
		}
	}
	if len(name) > 0 {
		r["name"] = name
	}
	if display != "" {
		r["displayName"] = display
	}
	if d.ExternalID != "" {
		r["externalId"] = d.ExternalID
	}
	emails := d.Emails
	if d.AccountID == "" {
		emails = []account.SCIMValue{{Value: acct.Email, Type: "work", Primary: true}}
	}
	if len(emails) > 0 {
		r["emails"] = valueList(emails)
	}
	if len(d.Phones) > 0 {
		r["phoneNumbers"] = valueList(d.Phones)
	} else if acct.Phone != "" && d.AccountID == "" {
		r["phoneNumbers"] = valueList([]account.SCIMValue{{Value: acct.Phone, Type: "work", Primary: true}})
	}
	if d.Department != "" || d.EmployeeNumber != "" || d.Manager != "" {
		ent := map[string]any{}
		if d.Department != "" {
			ent["department"] = d.Department
		}
		if d.EmployeeNumber != "" {
			ent["employeeNumber"] = d.EmployeeNumber
		}
		if d.Manager != "" {
			ent["manager"] = map[string]any{"value": d.Manager}
		}
		r[enterpriseURN] = ent
		r["schemas"] = []string{userSchema, enterpriseURN}
	}
	if len(d.Extra) > 0 {
		var extra map[string]any
		if json.Unmarshal(d.Extra, &extra) == nil {
			for k, v := range extra {
				r[k] = v
			}
		}
	}
	return r
}

func valueList(vs []account.SCIMValue) []any {
	out := make([]any, len(vs))
	primary := false
	for i, v := range vs {
		e := map[string]any{"value": v.Value}
		if v.Type != "" {
			e["type"] = v.Type
		}
		if v.Display != "" {
			e["display"] = v.Display
		}
		if v.Primary && !primary { // one primary, whatever older data holds
			e["primary"], primary = true, true
		}
		out[i] = e
	}
	return out
}

// groupInput reads a Group resource.
func groupInput(m map[string]any) (account.SCIMGroupInput, error) {
	in := account.SCIMGroupInput{DisplayName: str(m, "displayName"), ExternalID: str(m, "externalId")}
	mv, _ := field(m, "members")
	for _, v := range values(mv) {
		if validText(v.Value) && len(v.Value) <= 100 { // never an account id otherwise
			in.Members = append(in.Members, v)
		}
	}
	return in, nil
}

// groupResource renders a team as a SCIM Group.
func groupResource(g account.SCIMGroup, location, usersURL string) map[string]any {
	members := make([]any, len(g.Members))
	for i, m := range g.Members {
		e := map[string]any{"value": m.Value, "type": "User", "$ref": usersURL + "/" + m.Value}
		if m.Display != "" {
			e["display"] = m.Display
		}
		members[i] = e
	}
	r := map[string]any{
		"schemas":     []string{groupSchema},
		"id":          g.ID,
		"displayName": g.Name,
		"members":     members,
		"meta": map[string]any{
			"resourceType": "Group",
			"created":      g.CreatedAt.Format(timeFormatSCIM),
			"lastModified": g.LastModified.Format(timeFormatSCIM),
			"location":     location,
		},
	}
	if g.ExternalID != "" {
		r["externalId"] = g.ExternalID
	}
	return r
}

// project applies attributes (only these, with id and schemas) or
// excludedAttributes (all but these) to a rendered resource. Names are
// case-insensitive, may be schema-qualified, may name a sub-attribute (name.givenName)
// and may carry a value filter (emails[type eq "work"]), which selects the attribute.
func project(r map[string]any, attributes, excluded []string) map[string]any {
	if len(attributes) == 0 && len(excluded) == 0 {
		return r
	}
	if len(attributes) > 0 {
		out := map[string]any{"schemas": r["schemas"], "id": r["id"]}
		for _, a := range attributes {
			top, sub := splitAttr(a)
			v, ok := field(r, top)
			if !ok {
				continue
			}
			if sub == "" {
				out[canonicalKey(r, top)] = v
				continue
			}
			if o, isObj := v.(map[string]any); isObj {
				if sv, ok := field(o, sub); ok {
					key := canonicalKey(r, top)
					dst, _ := out[key].(map[string]any)
					if dst == nil {
						dst = map[string]any{}
						out[key] = dst
					}
					dst[canonicalKey(o, sub)] = sv
				}
			} else {
				out[canonicalKey(r, top)] = v
			}
		}
		return out
	}
	for _, a := range excluded {
		top, sub := splitAttr(a)
		if strings.EqualFold(top, "id") || strings.EqualFold(top, "schemas") {
			continue
		}
		if sub == "" {
			deleteField(r, top)
			continue
		}
		if o := obj(r, top); o != nil {
			deleteField(o, sub)
		}
	}
	return r
}

// splitAttr splits "name.givenName", "urn:…:User:department" or "emails[…].value"
// into the top-level attribute and the sub-attribute.
func splitAttr(a string) (top, sub string) {
	a = strings.TrimSpace(a)
	if i := strings.IndexByte(a, '['); i >= 0 {
		a = a[:i]
	}
	lower := strings.ToLower(a)
	for _, urn := range []string{userSchema, groupSchema} {
		if strings.HasPrefix(lower, strings.ToLower(urn)+":") {
			a = a[len(urn)+1:]
			lower = lower[len(urn)+1:]
		}
	}
	if strings.HasPrefix(lower, strings.ToLower(enterpriseURN)) {
		rest := strings.TrimPrefix(a[len(enterpriseURN):], ":")
		return enterpriseURN, rest
	}
	top, sub, _ = strings.Cut(a, ".")
	return top, sub
}

// canonicalKey is m's own spelling of the key name.
func canonicalKey(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

// scimActive is a member's SCIM active: an active member, or an invited one whose
// invitation is pending (an invited member without one was made inactive, and is
// sent one when made active again).
func scimActive(m account.Member) bool {
	return m.State == account.MemberActive || m.State == account.MemberInvited && m.Invitation != nil
}
