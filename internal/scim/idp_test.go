package scim_test

import (
	"encoding/json"
	"slices"
	"testing"
)

// The requests in this file are the ones the identity providers document, copied as
// they publish them (ids and names replaced by this test's), so that a directory
// connects on the first try:
//
//   - Entra: "Known issues and resolutions with SCIM 2.0 protocol compliance of the
//     Microsoft Entra user provisioning service",
//     learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
//     (cited as [entra-compat]), and "Tutorial: Develop and plan provisioning for a
//     SCIM endpoint in Microsoft Entra ID",
//     learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
//     (cited as [entra-tutorial]).
//   - Okta: "SCIM 2.0 Protocol Reference",
//     developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20 (cited as [okta]).

// body decodes a request body written as the documentation writes it.
func body(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test body: %v\n%s", err, s)
	}
	return m
}

func memberIDs(g map[string]any) []string {
	var out []string
	ms, _ := g["members"].([]any)
	for _, m := range ms {
		out = append(out, m.(map[string]any)["value"].(string))
	}
	slices.Sort(out)
	return out
}

// TestEntraRemoveMember: Entra's default request to remove a group member names the
// member in value ([entra-compat] "Requests made to remove a group member", without
// the feature flag; [entra-tutorial] "Update Group [Remove Members]"). Only that
// member leaves; the others stay.
func TestEntraRemoveMember(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		a := e.must(201, tok, "POST", base+"/Users", user("a@acme.test", nil))["id"].(string)
		b := e.must(201, tok, "POST", base+"/Users", user("b@acme.test", nil))["id"].(string)
		c := e.must(201, tok, "POST", base+"/Users", user("c@acme.test", nil))["id"].(string)
		g := e.must(201, tok, "POST", base+"/Groups", map[string]any{"displayName": "Sales",
			"members": []any{map[string]any{"value": a}, map[string]any{"value": b}, map[string]any{"value": c}}})
		id := g["id"].(string)

		// [entra-compat], without feature flag.
		r := e.call(tok, "PATCH", base+"/Groups/"+id, body(t, `{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "Remove",
            "path": "members",
            "value": [
                {
                    "value": "`+a+`"
                }
            ]
        }
    ]
}`))
		if r.Status != 200 && r.Status != 204 {
			t.Fatalf("PATCH = %d\n%s", r.Status, r.Raw)
		}
		if got := memberIDs(e.must(200, tok, "GET", base+"/Groups/"+id, nil)); !slices.Equal(got, sorted(b, c)) {
			t.Fatalf("after removing %s: members %v, want %v", a, got, sorted(b, c))
		}
		// [entra-tutorial] "Update Group [Remove Members]", with its "$ref": null.
		e.call(tok, "PATCH", base+"/Groups/"+id, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Remove",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": "`+b+`"
        }]
    }]
}`))
		if got := memberIDs(e.must(200, tok, "GET", base+"/Groups/"+id, nil)); !slices.Equal(got, []string{c}) {
			t.Fatalf("after removing %s: members %v, want [%s]", b, got, c)
		}
		// [entra-compat], with the feature flag: the member in a value filter.
		e.call(tok, "PATCH", base+"/Groups/"+id, body(t, `{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "remove",
            "path": "members[value eq \"`+c+`\"]"
        }
    ]
}`))
		if got := memberIDs(e.must(200, tok, "GET", base+"/Groups/"+id, nil)); len(got) != 0 {
			t.Fatalf("after removing %s: members %v", c, got)
		}
	})
}
