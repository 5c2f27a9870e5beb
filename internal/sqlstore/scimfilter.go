package sqlstore

import (
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
)

// colKind is how a filterable column compares.
type colKind int

const (
	colText      colKind = iota // a string compared case-insensitively
	colExactText                // a string compared case-sensitively (ids)
	colMultiText                // any of several strings, case-insensitively
	colBool
	colTime
	colRef // a team's id, compared by its members' account ids: eq and ne only
)

// scimCol is the SQL of one filterable field (account.Field) of a member or a team.
// Text columns hold lower-cased text, or are lower-cased by the expression, unless
// the kind is exact; multi-valued columns hold one value a line.
type scimCol struct {
	expr     string
	kind     colKind
	nullable bool
	// eq, when set, builds the condition "attribute equals ph" so that it reads an
	// index rather than computing expr for every member.
	eq func(ph string) string
	// values, for a multi-valued attribute, compiles its value filters.
	values *scimValues
}

// scimValues is how a value filter (account.OpHas) of a multi-valued
// attribute compiles: outer AND EXISTS (SELECT 1 FROM from WHERE where AND <filter
// over elem>); and, where implicitWhen holds (a member no identity provider described),
// the filter over implicit, the one value the resource shows then, instead.
type scimValues struct {
	outer        string
	from, where  string
	elem         map[account.Field]scimCol
	implicitWhen string
	implicit     map[account.Field]scimCol
}

// implicitValue is the one value, of type work and primary, that a member no
// identity provider described shows: its account's address or phone number.
func implicitValue(expr string) map[account.Field]scimCol {
	return map[account.Field]scimCol{account.FieldValue: {expr: "lower(" + expr + ")", kind: colText},
		account.FieldType: {expr: "'work'", kind: colText}, account.FieldDisplay: {expr: "''", kind: colText},
		account.FieldPrimary: {expr: "(1 = 1)", kind: colBool}}
}

func userValueCols(engine Engine, cols map[account.Field]scimCol) {
	for name, c := range map[account.Field]struct{ col, implicit, when string }{
		account.FieldEmails: {"u.emails", "a.email_key", "u.account_id IS NULL"},
		account.FieldPhones: {"u.phones", "a.phone", "u.account_id IS NULL AND a.phone <> ''"},
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

// scimUserCols are the fields of a member over memberships m, accounts a and the LEFT
// JOINed scim_users u, in the organization of placeholder org. A member that no
// identity provider described has the account's email as userName and as its one
// email.
func scimUserCols(engine Engine, org string) map[account.Field]scimCol {
	cols := map[account.Field]scimCol{
		account.FieldID:         {expr: "m.account_id", kind: colExactText},
		account.FieldExternalID: {expr: "u.external_id", kind: colExactText, nullable: true},
		account.FieldUserName: {expr: "COALESCE(u.user_name_key, a.email_key)", kind: colText,
			// Through scim_users_user_name_key, or accounts_email_key for the members
			// with no SCIM userName: two index probes, then the membership's key.
			eq: func(ph string) string {
				return `m.account_id IN (
					SELECT su.account_id FROM scim_users su WHERE su.org_id = ` + org + ` AND su.user_name_key = ` + ph + `
					UNION ALL
					SELECT sa.id FROM accounts sa WHERE sa.email_key = ` + ph + ` AND NOT EXISTS (
						SELECT 1 FROM scim_users sx WHERE sx.org_id = ` + org + ` AND sx.account_id = sa.id))`
			}},
		account.FieldDisplayName: {expr: "lower(COALESCE(NULLIF(u.display_name, ''), TRIM(" + scimGivenName + " || ' ' || " + scimFamilyName + ")))",
			kind: colText},
		account.FieldGivenName:     {expr: "lower(" + scimGivenName + ")", kind: colText},
		account.FieldFamilyName:    {expr: "lower(" + scimFamilyName + ")", kind: colText},
		account.FieldFormattedName: {expr: "lower(COALESCE(u.formatted_name, ''))", kind: colText},
		account.FieldEmail:         {expr: "COALESCE(u.emails_text, a.email_key)", kind: colMultiText},
		account.FieldPhone:         {expr: "COALESCE(u.phones_text, '')", kind: colMultiText},
		// scim's scimActive: an active member, or an invited one with a pending invitation.
		account.FieldActive: {expr: `(m.state = 'active' OR m.state = 'invited' AND EXISTS (SELECT 1 FROM invitations si
			WHERE si.org_id = m.org_id AND si.account_id = m.account_id AND si.state = 'pending'))`, kind: colBool},
		account.FieldCreated: {expr: "m.created_at", kind: colTime},
		account.FieldModified: {expr: "CASE WHEN u.updated_at > m.updated_at THEN u.updated_at ELSE m.updated_at END",
			kind: colTime},
		account.FieldDepartment:     {expr: "lower(COALESCE(u.department, ''))", kind: colText},
		account.FieldEmployeeNumber: {expr: "lower(COALESCE(u.employee_number, ''))", kind: colText},
	}
	userValueCols(engine, cols)
	return cols
}

// scimGroupCols are the fields of a team over teams t and the LEFT JOINed scim_groups g.
var scimGroupCols = map[account.Field]scimCol{
	account.FieldID:         {expr: "t.id", kind: colExactText},
	account.FieldExternalID: {expr: "g.external_id", kind: colExactText, nullable: true},
	account.FieldName:       {expr: "t.name_key", kind: colText},
	account.FieldMember:     {expr: "t.id", kind: colRef},
	account.FieldMembers: {values: &scimValues{outer: "1 = 1", from: "team_members rm", where: "rm.team_id = t.id",
		elem: map[account.Field]scimCol{account.FieldValue: {expr: "rm.account_id", kind: colExactText}}}},
	account.FieldCreated: {expr: "t.created_at", kind: colTime},
	account.FieldModified: {expr: "CASE WHEN g.updated_at > t.updated_at THEN g.updated_at ELSE t.updated_at END",
		kind: colTime},
}

// maxFilterDepth bounds the nesting of a filter the compiler follows.
const maxFilterDepth = 64

func badFilter(msg string) error {
	return &account.Error{Code: account.EINVALID, Message: "invalid filter: " + msg,
		Fields: []account.FieldError{{Field: "filter", Message: msg}}}
}

// compileSCIM turns f into a SQL condition over cols, its values passed as
// parameters through a: no value is ever written into the SQL text.
func compileSCIM(engine Engine, f *account.Filter, a *args, cols map[account.Field]scimCol, depth int) (string, error) {
	if f == nil {
		return "", badFilter("empty expression")
	}
	if depth > maxFilterDepth {
		return "", badFilter("nested too deeply")
	}
	switch f.Op {
	case account.OpAnd, account.OpOr:
		l, err := compileSCIM(engine, f.Left, a, cols, depth+1)
		if err != nil {
			return "", err
		}
		r, err := compileSCIM(engine, f.Right, a, cols, depth+1)
		if err != nil {
			return "", err
		}
		return "(" + l + " " + strings.ToUpper(string(f.Op)) + " " + r + ")", nil
	case account.OpNot:
		l, err := compileSCIM(engine, f.Left, a, cols, depth+1)
		if err != nil {
			return "", err
		}
		return "(NOT " + l + ")", nil
	}
	c, ok := cols[f.Field]
	if !ok {
		return "", badFilter("unknown field " + strconv.Quote(string(f.Field)))
	}
	unsupported := badFilter("operator " + string(f.Op) + " does not apply to " + string(f.Field))
	if f.Op == account.OpHas || c.values != nil {
		if f.Op != account.OpHas || c.values == nil {
			return "", unsupported
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
	e := c.expr
	switch c.kind {
	case colBool:
		active := e
		switch f.Op {
		case account.OpPresent:
			return "(1 = 1)", nil
		case account.OpEq, account.OpNe:
			if f.Bool == (f.Op == account.OpEq) {
				return active, nil
			}
			return "(NOT " + active + ")", nil
		}
		return "", unsupported
	case colTime:
		switch f.Op {
		case account.OpPresent:
			return "(1 = 1)", nil
		case account.OpEq, account.OpNe, account.OpGt, account.OpGe, account.OpLt, account.OpLe:
			return "(" + e + " " + sqlOps[f.Op] + " " + a.add(ts(f.Time)) + ")", nil
		}
		return "", unsupported
	case colRef:
		exists := func(extra string) string {
			return "EXISTS (SELECT 1 FROM team_members rm WHERE rm.team_id = " + e + extra + ")"
		}
		switch f.Op {
		case account.OpPresent:
			return exists(""), nil
		case account.OpEq:
			return exists(" AND rm.account_id = " + a.add(f.Text)), nil
		case account.OpNe:
			return "(NOT " + exists(" AND rm.account_id = "+a.add(f.Text)) + ")", nil
		}
		return "", unsupported
	case colMultiText:
		v := strings.ToLower(f.Text)
		lines := "('\n' || " + e + " || '\n')"
		switch f.Op {
		case account.OpPresent:
			return "(" + e + " <> '')", nil
		case account.OpEq:
			return engine.contains(lines, a.add("\n"+v+"\n")), nil
		case account.OpNe:
			return "(NOT " + engine.contains(lines, a.add("\n"+v+"\n")) + ")", nil
		case account.OpContains:
			return engine.contains(e, a.add(v)), nil
		case account.OpStartsWith:
			return engine.contains(lines, a.add("\n"+v)), nil
		case account.OpEndsWith:
			return engine.contains(lines, a.add(v+"\n")), nil
		}
		return "", unsupported
	}
	v := f.Text
	if c.kind == colText {
		v = strings.ToLower(v)
	}
	n := strconv.Itoa(len([]rune(v)))
	var cond string
	switch f.Op {
	case account.OpPresent:
		cond = e + " <> ''"
		if c.nullable {
			cond = e + " IS NOT NULL AND " + cond
		}
	case account.OpEq:
		if c.eq != nil {
			return "(" + c.eq(a.add(v)) + ")", nil
		}
		cond = e + " = " + a.add(v)
	case account.OpNe:
		cond = e + " <> " + a.add(v)
		if c.nullable {
			cond = e + " IS NULL OR " + cond
		}
	case account.OpContains:
		cond = engine.contains(e, a.add(v))
	case account.OpStartsWith:
		cond = "substr(" + e + ", 1, " + n + ") = " + a.add(v)
	case account.OpEndsWith:
		cond = "length(" + e + ") >= " + n + " AND substr(" + e + ", length(" + e + ") - " + n + " + 1) = " + a.add(v)
	case account.OpGt, account.OpGe, account.OpLt, account.OpLe:
		cond = e + " " + sqlOps[f.Op] + " " + a.add(v)
	default:
		return "", badFilter("unknown operator " + strconv.Quote(string(f.Op)))
	}
	return "(" + cond + ")", nil
}

var sqlOps = map[account.FilterOp]string{account.OpEq: "=", account.OpNe: "<>", account.OpGt: ">", account.OpGe: ">=", account.OpLt: "<", account.OpLe: "<="}
