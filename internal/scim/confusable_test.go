package scim_test

import (
	"testing"
)

// TestGroupNamesConfusable: a Group whose displayName looks like another team's of
// the organization (the same UTS #39 skeleton, without case: "Engineerіng" with a
// Ukrainian і) is 409 uniqueness on POST, PUT and PATCH, as RFC 7644 answers a
// value already taken.
func TestGroupNamesConfusable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		e.must(201, tok, "POST", base+"/Groups", map[string]any{"displayName": "Engineering"})
		ops := e.must(201, tok, "POST", base+"/Groups", map[string]any{"displayName": "Ops"})["id"].(string)
		scimError(t, e.call(tok, "POST", base+"/Groups", map[string]any{"displayName": "Engineer\u0456ng"}), 409, "uniqueness")
		scimError(t, e.call(tok, "POST", base+"/Groups", map[string]any{"displayName": "ENG\u0399NEERING"}), 409, "uniqueness")
		scimError(t, e.call(tok, "PUT", base+"/Groups/"+ops, map[string]any{"displayName": "\u0395ngineering"}), 409, "uniqueness")
		scimError(t, e.call(tok, "PATCH", base+"/Groups/"+ops, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Eng\u0456neering"}},
		}), 409, "uniqueness")
		if g := e.must(200, tok, "GET", base+"/Groups/"+ops, nil); g["displayName"] != "Ops" {
			t.Errorf("after the refusals: %v", g)
		}
		if l := e.must(200, tok, "GET", base+"/Groups", nil); l["totalResults"] != 2.0 {
			t.Errorf("groups: %v", l)
		}
	})
}
