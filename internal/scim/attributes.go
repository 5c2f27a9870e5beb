package scim

import "roster.dev/roster/internal/account"

// attrKind is how a filterable SCIM attribute compares, and which operators apply.
type attrKind int

const (
	textAttr      attrKind = iota // a string compared case-insensitively
	exactTextAttr                 // a string compared case-sensitively (ids)
	multiTextAttr                 // any of several strings, case-insensitively
	boolAttr
	timeAttr
	refAttr // a member id of a group: eq and ne only
)

// applies reports whether operator op compares an attribute of kind k.
func (k attrKind) applies(op string) bool {
	switch k {
	case boolAttr, refAttr:
		return op == "pr" || op == "eq" || op == "ne"
	case timeAttr:
		return op != "co" && op != "sw" && op != "ew"
	case multiTextAttr:
		return op != "gt" && op != "ge" && op != "lt" && op != "le"
	}
	return true
}

// filterAttr is a filterable attribute: how it compares and the domain's field for it.
type filterAttr struct {
	kind  attrKind
	field account.Field
}

// userAttrs are the User attributes a filter may name, canonical spelling to kind.
// The parser matches the names case-insensitively and keeps the canonical spelling.
var userAttrs = map[string]filterAttr{
	"id":                              {exactTextAttr, account.FieldID},
	"externalId":                      {exactTextAttr, account.FieldExternalID},
	"userName":                        {textAttr, account.FieldUserName},
	"displayName":                     {textAttr, account.FieldDisplayName},
	"name.givenName":                  {textAttr, account.FieldGivenName},
	"name.familyName":                 {textAttr, account.FieldFamilyName},
	"name.formatted":                  {textAttr, account.FieldFormattedName},
	"emails.value":                    {multiTextAttr, account.FieldEmail},
	"phoneNumbers.value":              {multiTextAttr, account.FieldPhone},
	"active":                          {boolAttr, account.FieldActive},
	"meta.created":                    {timeAttr, account.FieldCreated},
	"meta.lastModified":               {timeAttr, account.FieldModified},
	enterpriseURN + ":department":     {textAttr, account.FieldDepartment},
	enterpriseURN + ":employeeNumber": {textAttr, account.FieldEmployeeNumber},
}

// groupAttrs are the Group attributes a filter may name.
var groupAttrs = map[string]filterAttr{
	"id":                {exactTextAttr, account.FieldID},
	"externalId":        {exactTextAttr, account.FieldExternalID},
	"displayName":       {textAttr, account.FieldName},
	"members.value":     {refAttr, account.FieldMember},
	"meta.created":      {timeAttr, account.FieldCreated},
	"meta.lastModified": {timeAttr, account.FieldModified},
}

// valueAttr is a multi-valued attribute a filter may select values of
// (emails[type eq "work"]): the domain's list field, and the sub-attributes its
// value filters may name.
type valueAttr struct {
	field account.Field
	subs  map[string]filterAttr
}

// valueSubs are the sub-attributes of a user's emails and phoneNumbers.
var valueSubs = map[string]filterAttr{"value": {textAttr, account.FieldValue}, "type": {textAttr, account.FieldType},
	"display": {textAttr, account.FieldDisplay}, "primary": {boolAttr, account.FieldPrimary}}

// userValueAttrs are the multi-valued User attributes of value filters.
var userValueAttrs = map[string]valueAttr{
	"emails":       {account.FieldEmails, valueSubs},
	"phoneNumbers": {account.FieldPhones, valueSubs},
}

// groupValueAttrs are the multi-valued Group attributes of value filters
// (members[value eq "…"]).
var groupValueAttrs = map[string]valueAttr{
	"members": {account.FieldMembers, map[string]filterAttr{"value": {exactTextAttr, account.FieldValue}}},
}
