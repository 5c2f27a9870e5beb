package sqlstore

import (
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
)

// scimCol is the SQL of one filterable SCIM attribute. Text columns hold lower-cased
// text, or are lower-cased by the expression, unless the kind is exact; multi-valued
// columns hold one value a line.
type scimCol struct {
	expr     string
	kind     account.SCIMAttrKind
	nullable bool
	// eq, when set, builds the condition "attribute equals ph" so that it reads an
	// index rather than computing expr for every member.
	eq func(ph string) string
	// values, for a multi-valued attribute, compiles its value filters.
	values *scimValues
}

// scimValues is how a value filter (account.SCIMFilter "has") of a multi-valued
// attribute compiles: outer AND EXISTS (SELECT 1 FROM from WHERE where AND <filter
// over elem>); and, where implicitWhen holds (a member no identity provider described),
// the filter over implicit, the one value the resource shows then, instead.
type scimValues struct {
	outer        string
	from, where  string
	elem         map[string]scimCol
	implicitWhen string
	implicit     map[string]scimCol
}

// implicitValue is the one value, of type work and primary, that a member no
// identity provider described shows: its account's address or phone number.
func implicitValue(expr string) map[string]scimCol {
	return map[string]scimCol{"value": {expr: "lower(" + expr + ")", kind: account.SCIMText},
		"type": {expr: "'work'", kind: account.SCIMText}, "display": {expr: "''", kind: account.SCIMText},
		"primary": {expr: "(1 = 1)", kind: account.SCIMBool}}
}

func userValueCols(engine Engine, cols map[string]scimCol) {
	for name, c := range map[string]struct{ col, implicit, when string }{
		"emails":       {"u.emails", "a.email_key", "u.account_id IS NULL"},
		"phoneNumbers": {"u.phones", "a.phone", "u.account_id IS NULL AND a.phone <> ''"},
	} {
		from, elem := engine.jsonValues(c.col)
		cols[name] = scimCol{values: &scimValues{outer: "u.account_id IS NOT NULL", from: from, where: "1 = 1", elem: elem,
			implicitWhen: c.when, implicit: implicitValue(c.implicit)}}
	}
}

// profileVisibleSQL is account.ProfileVisible over memberships m and accounts a: the
// condition under which the organization sees the account's profile. SCIM's name
// attributes are the identity provider's when it gave them, else the account's
// where visible (what scim's userResource shows, so a filter finds what a read shows
// and nothing it hides).
const (
	profileVisibleSQL = `(m.state <> 'invited' OR a.managed_by = m.org_id OR
		a.managed_by = (SELECT po.parent_id FROM organizations po WHERE po.id = m.org_id))`
	scimGivenName = `CASE WHEN COALESCE(u.given_name, '') <> '' THEN u.given_name WHEN ` + profileVisibleSQL +
		` THEN a.first_name ELSE '' END`
	scimFamilyName = `CASE WHEN COALESCE(u.family_name, '') <> '' THEN u.family_name WHEN ` + profileVisibleSQL +
		` THEN a.last_name ELSE '' END`
)

// scimUserCols are the User attributes over memberships m, accounts a and the LEFT
// JOINed scim_users u, in the organization of placeholder org. A member that no
// identity provider described has the account's email as userName and as its one
// email.
func scimUserCols(engine Engine, org string) map[string]scimCol {
	cols := map[string]scimCol{
		"id":         {expr: "m.account_id", kind: account.SCIMExactText},
		"externalId": {expr: "u.external_id", kind: account.SCIMExactText, nullable: true},
		"userName": {expr: "COALESCE(u.user_name_key, a.email_key)", kind: account.SCIMText,
			// Through scim_users_user_name_key, or accounts_email_key for the members
			// with no SCIM userName: two index probes, then the membership's key.
			eq: func(ph string) string {
				return `m.account_id IN (
					SELECT su.account_id FROM scim_users su WHERE su.org_id = ` + org + ` AND su.user_name_key = ` + ph + `
					UNION ALL
					SELECT sa.id FROM accounts sa WHERE sa.email_key = ` + ph + ` AND NOT EXISTS (
						SELECT 1 FROM scim_users sx WHERE sx.org_id = ` + org + ` AND sx.account_id = sa.id))`
			}},
		"displayName": {expr: "lower(COALESCE(NULLIF(u.display_name, ''), TRIM(" + scimGivenName + " || ' ' || " + scimFamilyName + ")))",
			kind: account.SCIMText},
		"name.givenName":     {expr: "lower(" + scimGivenName + ")", kind: account.SCIMText},
		"name.familyName":    {expr: "lower(" + scimFamilyName + ")", kind: account.SCIMText},
		"name.formatted":     {expr: "lower(COALESCE(u.formatted_name, ''))", kind: account.SCIMText},
		"emails.value":       {expr: "COALESCE(u.emails_text, a.email_key)", kind: account.SCIMMultiText},
		"phoneNumbers.value": {expr: "COALESCE(u.phones_text, '')", kind: account.SCIMMultiText},
		// scim's scimActive: an active member, or an invited one with a pending invitation.
		"active": {expr: `(m.state = 'active' OR m.state = 'invited' AND EXISTS (SELECT 1 FROM invitations si
			WHERE si.org_id = m.org_id AND si.account_id = m.account_id AND si.state = 'pending'))`, kind: account.SCIMBool},
		"meta.created": {expr: "m.created_at", kind: account.SCIMTime},
		"meta.lastModified": {expr: "CASE WHEN u.updated_at > m.updated_at THEN u.updated_at ELSE m.updated_at END",
			kind: account.SCIMTime},
		account.SCIMEnterprise + ":department":     {expr: "lower(COALESCE(u.department, ''))", kind: account.SCIMText},
		account.SCIMEnterprise + ":employeeNumber": {expr: "lower(COALESCE(u.employee_number, ''))", kind: account.SCIMText},
	}
	userValueCols(engine, cols)
	return cols
}

// scimGroupCols are the Group attributes over teams t and the LEFT JOINed scim_groups g.
var scimGroupCols = map[string]scimCol{
	"id":            {expr: "t.id", kind: account.SCIMExactText},
	"externalId":    {expr: "g.external_id", kind: account.SCIMExactText, nullable: true},
	"displayName":   {expr: "t.name_key", kind: account.SCIMText},
	"members.value": {expr: "t.id", kind: account.SCIMRef},
	"members": {values: &scimValues{outer: "1 = 1", from: "team_members rm", where: "rm.team_id = t.id",
		elem: map[string]scimCol{"value": {expr: "rm.account_id", kind: account.SCIMExactText}}}},
	"meta.created": {expr: "t.created_at", kind: account.SCIMTime},
	"meta.lastModified": {expr: "CASE WHEN g.updated_at > t.updated_at THEN g.updated_at ELSE t.updated_at END",
		kind: account.SCIMTime},
}

// maxFilterDepth bounds the nesting of a filter the compiler follows.
const maxFilterDepth = 64

func badFilter(msg string) error {
	return &account.Error{Code: account.EINVALID, Message: "invalid filter: " + msg,
		Fields: []account.FieldError{{Field: "filter", Message: msg}}}
}

// compileSCIM turns f into a SQL condition over cols, its values passed as
// parameters through a: no value is ever written into the SQL text.
func compileSCIM(engine Engine, f *account.SCIMFilter, a *args, cols map[string]scimCol, depth int) (string, error) {
	if f == nil {
		return "", badFilter("empty expression")
	}
	if depth > maxFilterDepth {
		return "", badFilter("nested too deeply")
	}
	switch f.Op {
	case "and", "or":
		l, err := compileSCIM(engine, f.Left, a, cols, depth+1)
		if err != nil {
			return "", err
		}
		r, err := compileSCIM(engine, f.Right, a, cols, depth+1)
		if err != nil {
			return "", err
		}
		return "(" + l + " " + strings.ToUpper(f.Op) + " " + r + ")", nil
	case "not":
		l, err := compileSCIM(engine, f.Left, a, cols, depth+1)
		if err != nil {
			return "", err
		}
		return "(NOT " + l + ")", nil
	}
	c, ok := cols[f.Attr]
	if !ok {
		return "", badFilter("unknown attribute " + strconv.Quote(f.Attr))
	}
	if f.Op == "has" || c.values != nil {
		if f.Op != "has" || c.values == nil {
			return "", badFilter("operator " + f.Op + " does not apply to " + f.Attr)
		}
		v := c.values
		inner, err := compileSCIM(engine, f.Left, a, v.elem, depth+1)
		if err != nil {
			return "", err
		}
		cond := "(" + v.outer + " AND EXISTS (SELECT 1 FROM " + v.from + " WHERE " + v.where + " AND " + inner + "))"
		if v.implicit != nil {
			imp, err := compileSCIM(engine, f.Left, a, v.implicit, depth+1)
			if err != nil {
				return "", err
			}
			cond = "(" + cond + " OR (" + v.implicitWhen + " AND " + imp + "))"
		}
		return cond, nil
	}
	unsupported := badFilter("operator " + f.Op + " does not apply to " + f.Attr)
	e := c.expr
	switch c.kind {
	case account.SCIMBool:
		active := e
		switch f.Op {
		case "pr":
			return "(1 = 1)", nil
		case "eq", "ne":
			if f.Bool == (f.Op == "eq") {
				return active, nil
			}
			return "(NOT " + active + ")", nil
		}
		return "", unsupported
	case account.SCIMTime:
		switch f.Op {
		case "pr":
			return "(1 = 1)", nil
		case "eq", "ne", "gt", "ge", "lt", "le":
			return "(" + e + " " + sqlOps[f.Op] + " " + a.add(ts(f.Time)) + ")", nil
		}
		return "", unsupported
	case account.SCIMRef:
		exists := func(extra string) string {
			return "EXISTS (SELECT 1 FROM team_members rm WHERE rm.team_id = " + e + extra + ")"
		}
		switch f.Op {
		case "pr":
			return exists(""), nil
		case "eq":
			return exists(" AND rm.account_id = " + a.add(f.Text)), nil
		case "ne":
			return "(NOT " + exists(" AND rm.account_id = "+a.add(f.Text)) + ")", nil
		}
		return "", unsupported
	case account.SCIMMultiText:
		v := strings.ToLower(f.Text)
		lines := "('\n' || " + e + " || '\n')"
		switch f.Op {
		case "pr":
			return "(" + e + " <> '')", nil
		case "eq":
			return engine.contains(lines, a.add("\n"+v+"\n")), nil
		case "ne":
			return "(NOT " + engine.contains(lines, a.add("\n"+v+"\n")) + ")", nil
		case "co":
			return engine.contains(e, a.add(v)), nil
		case "sw":
			return engine.contains(lines, a.add("\n"+v)), nil
		case "ew":
			return engine.contains(lines, a.add(v+"\n")), nil
		}
		return "", unsupported
	}
	v := f.Text
	if c.kind == account.SCIMText {
		v = strings.ToLower(v)
	}
	n := strconv.Itoa(len([]rune(v)))
	var cond string
	switch f.Op {
	case "pr":
		cond = e + " <> ''"
		if c.nullable {
			cond = e + " IS NOT NULL AND " + cond
		}
	case "eq":
		if c.eq != nil {
			return "(" + c.eq(a.add(v)) + ")", nil
		}
		cond = e + " = " + a.add(v)
	case "ne":
		cond = e + " <> " + a.add(v)
		if c.nullable {
			cond = e + " IS NULL OR " + cond
		}
	case "co":
		cond = engine.contains(e, a.add(v))
	case "sw":
		cond = "substr(" + e + ", 1, " + n + ") = " + a.add(v)
	case "ew":
		cond = "length(" + e + ") >= " + n + " AND substr(" + e + ", length(" + e + ") - " + n + " + 1) = " + a.add(v)
	case "gt", "ge", "lt", "le":
		cond = e + " " + sqlOps[f.Op] + " " + a.add(v)
	default:
		return "", badFilter("unknown operator " + strconv.Quote(f.Op))
	}
	return "(" + cond + ")", nil
}

var sqlOps = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
