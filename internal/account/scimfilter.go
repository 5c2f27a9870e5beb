package account

import "time"

// SCIMAttrKind is how a filterable SCIM attribute compares.
type SCIMAttrKind int

const (
	SCIMText      SCIMAttrKind = iota // a string compared case-insensitively
	SCIMExactText                     // a string compared case-sensitively (ids)
	SCIMMultiText                     // any of several strings, case-insensitively
	SCIMBool
	SCIMTime
	SCIMRef // a member id of a group: eq and ne only
)

// SCIMUserAttrs are the User attributes a filter may name, canonical spelling to kind.
// Transports match the names case-insensitively and pass the canonical spelling.
var SCIMUserAttrs = map[string]SCIMAttrKind{
	"id":                               SCIMExactText,
	"externalId":                       SCIMExactText,
	"userName":                         SCIMText,
	"displayName":                      SCIMText,
	"name.givenName":                   SCIMText,
	"name.familyName":                  SCIMText,
	"name.formatted":                   SCIMText,
	"emails.value":                     SCIMMultiText,
	"phoneNumbers.value":               SCIMMultiText,
	"active":                           SCIMBool,
	"meta.created":                     SCIMTime,
	"meta.lastModified":                SCIMTime,
	SCIMEnterprise + ":department":     SCIMText,
	SCIMEnterprise + ":employeeNumber": SCIMText,
}

// SCIMGroupAttrs are the Group attributes a filter may name.
var SCIMGroupAttrs = map[string]SCIMAttrKind{
	"id":                SCIMExactText,
	"externalId":        SCIMExactText,
	"displayName":       SCIMText,
	"members.value":     SCIMRef,
	"meta.created":      SCIMTime,
	"meta.lastModified": SCIMTime,
}

// SCIMUserValueAttrs are the multi-valued User attributes a filter may select
// values of (emails[type eq "work"]), with the sub-attributes their value filters
// may name.
var SCIMUserValueAttrs = map[string]map[string]SCIMAttrKind{
	"emails":       {"value": SCIMText, "type": SCIMText, "display": SCIMText, "primary": SCIMBool},
	"phoneNumbers": {"value": SCIMText, "type": SCIMText, "display": SCIMText, "primary": SCIMBool},
}

// SCIMGroupValueAttrs are the multi-valued Group attributes a filter may select
// values of (members[value eq "…"]).
var SCIMGroupValueAttrs = map[string]map[string]SCIMAttrKind{
	"members": {"value": SCIMExactText},
}

// SCIMEnterprise is the enterprise User extension's schema URN.
const SCIMEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// SCIMFilter is a parsed SCIM filter (RFC 7644 §3.4.2.2): a logical node ("and",
// "or" with Left and Right; "not" with Left) or a comparison of Attr (a canonical name
// of SCIMUserAttrs or SCIMGroupAttrs) by Op ("eq", "ne", "co", "sw", "ew", "gt",
// "ge", "lt", "le", "pr") with Value: a string for text, a bool for SCIMBool, a
// time.Time for SCIMTime; none for "pr". A value filter (RFC 7644 §3.4.2.2,
// emails[type eq "work" and value eq "…"]) is Op "has" with Attr a name of
// SCIMUserValueAttrs or SCIMGroupValueAttrs and Left a filter over that attribute's
// sub-attributes: some value of Attr matches Left. The store compiles it into one
// query.
type SCIMFilter struct {
	Op          string
	Left, Right *SCIMFilter
	Attr        string
	Text        string
	Bool        bool
	Time        time.Time
}

// SCIMQuery selects a page of an organization's SCIM resources, in id order.
type SCIMQuery struct {
	OrgID  string
	Filter *SCIMFilter // nil: all
	Offset int         // rows skipped (startIndex-1)
	Limit  int         // rows returned; 0 counts only
}
