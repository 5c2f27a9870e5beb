package account

import "time"

// Field names what a Filter compares of a member (FindSCIMUsers) or of a team
// (FindSCIMGroups): what the organization's identity provider says of it where it
// said something, else what Roster knows. The SCIM names of these (userName,
// name.givenName, members.value, …) are internal/scim's business.
type Field string

// The fields of a member.
const (
	FieldID             Field = "id"          // the account id (a team's id, for a team)
	FieldExternalID     Field = "external_id" // the identity provider's id (of a team too)
	FieldUserName       Field = "user_name"   // the identity provider's name of the member, else the account's email
	FieldDisplayName    Field = "display_name"
	FieldGivenName      Field = "given_name"
	FieldFamilyName     Field = "family_name"
	FieldFormattedName  Field = "formatted_name"
	FieldEmail          Field = "email" // any of the member's addresses
	FieldPhone          Field = "phone" // any of the member's phone numbers
	FieldActive         Field = "active"
	FieldCreated        Field = "created"  // of a team too
	FieldModified       Field = "modified" // of a team too
	FieldDepartment     Field = "department"
	FieldEmployeeNumber Field = "employee_number"
	// The member's addresses and phone numbers as lists, for OpHas: its Left
	// compares FieldValue, FieldType, FieldDisplay and FieldPrimary of one entry.
	FieldEmails Field = "emails"
	FieldPhones Field = "phones"
)

// The fields of a team.
const (
	FieldName    Field = "name"
	FieldMember  Field = "member"  // an account id among the team's members: OpEq, OpNe and OpPresent only
	FieldMembers Field = "members" // the team's members as a list, for OpHas over FieldValue (the account id)
)

// The fields of one entry of a list (SCIMValue).
const (
	FieldValue   Field = "value"
	FieldType    Field = "type"
	FieldDisplay Field = "display"
	FieldPrimary Field = "primary"
)

// FilterOp is a Filter's operator.
type FilterOp string

// The operators: logical (OpAnd and OpOr of Left and Right, OpNot of Left), OpHas
// (some entry of the list Field matches Left), and comparisons of Field with the
// Filter's value.
const (
	OpAnd        FilterOp = "and"
	OpOr         FilterOp = "or"
	OpNot        FilterOp = "not"
	OpHas        FilterOp = "has"
	OpEq         FilterOp = "eq"
	OpNe         FilterOp = "ne"
	OpContains   FilterOp = "co"
	OpStartsWith FilterOp = "sw"
	OpEndsWith   FilterOp = "ew"
	OpGt         FilterOp = "gt"
	OpGe         FilterOp = "ge"
	OpLt         FilterOp = "lt"
	OpLe         FilterOp = "le"
	OpPresent    FilterOp = "pr" // not empty; no value
)

// Filter selects members or teams: a logical node, an OpHas, or a comparison of
// Field by Op with a value: Bool for FieldActive and FieldPrimary, Time for
// FieldCreated and FieldModified, Text otherwise (compared case-insensitively, but
// for ids: FieldID, FieldExternalID, FieldMember and a member's FieldValue). The
// store compiles it into one query, and refuses (EINVALID, field "filter") an
// operator that does not apply to its field.
type Filter struct {
	Op          FilterOp
	Left, Right *Filter
	Field       Field
	Text        string
	Bool        bool
	Time        time.Time
}

// SCIMQuery selects a page of an organization's members or teams, in id order.
type SCIMQuery struct {
	OrgID  string
	Filter *Filter // nil: all
	Offset int     // rows skipped (startIndex-1)
	Limit  int     // rows returned; 0 counts only
}
