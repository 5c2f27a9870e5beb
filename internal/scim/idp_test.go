package scim_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
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

// TestOkta runs Okta's documented requests ([okta]) in order: a user's creation,
// look-up, replacement and deactivation; a group's creation, rename and membership.
func TestOkta(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		// [okta] "Determine if the User already exists".
		if l := e.must(200, tok, "GET", base+`/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100`, nil); l["totalResults"] != 0.0 {
			t.Fatalf("before creation: %v", l)
		}
		// [okta] "Create the User".
		u := e.must(201, tok, "POST", base+"/Users", body(t, `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "test.user@okta.local",
    "name": {
        "givenName": "Test",
        "familyName": "User"
    },
    "emails": [{
        "primary": true,
        "value": "test.user@okta.local",
        "type": "work"
    }],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": true
}`))
		id := u["id"].(string)
		if u["userName"] != "test.user@okta.local" || u["active"] != true || u["externalId"] != "00ujl29u0le5T6Aj10h7" || u["locale"] != "en-US" {
			t.Errorf("created = %v", u)
		}
		if l := e.must(200, tok, "GET", base+`/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100`, nil); l["totalResults"] != 1.0 {
			t.Errorf("after creation: %v", l)
		}
		// [okta] "Update the User" (PUT), with id, groups and meta as Okta sends them.
		put := e.must(200, tok, "PUT", base+"/Users/"+id, body(t, `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "id": "`+id+`",
    "userName": "test.user@okta.local",
    "name": {
        "givenName": "Another",
        "middleName": "Excited",
        "familyName": "User"
    },
    "emails": [{
        "primary": true,
        "value": "test.user@okta.local",
        "type": "work",
        "display": "test.user@okta.local"
    }],
    "active": true,
    "groups": [],
    "meta": {
        "resourceType": "User"
    }
}`))
		if put["name"].(map[string]any)["givenName"] != "Another" {
			t.Errorf("put = %v", put)
		}
		// [okta] "Update a specific User (PATCH)": deactivation, answered 200 with the User.
		off := e.must(200, tok, "PATCH", base+"/Users/"+id, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "active": false
        }
    }]
}`))
		if off["active"] != false || off["id"] != id || off["userName"] != "test.user@okta.local" {
			t.Errorf("deactivated = %v", off)
		}
		if m := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+id, nil); m["state"] != "deactivated" {
			t.Errorf("member = %v", m["state"])
		}

		// [okta] "Create Groups".
		g := e.must(201, tok, "POST", base+"/Groups", body(t, `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "displayName": "Test SCIMv2",
    "members": []
}`))
		gid := g["id"].(string)
		// [okta] "Update a specific Group name": the unchanged id comes along.
		renamed := e.must(200, tok, "PATCH", base+"/Groups/"+gid, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "id": "`+gid+`",
            "displayName": "Test SCIMv20"
        }
    }]
}`))
		if renamed["displayName"] != "Test SCIMv20" || renamed["id"] != gid {
			t.Errorf("renamed = %v", renamed)
		}
		// A changed id stays refused.
		scimError(t, e.call(tok, "PATCH", base+"/Groups/"+gid, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "value": map[string]any{"id": "other", "displayName": "X"}}}}), 400, "mutability")
		if got := e.must(200, tok, "GET", base+"/Groups/"+gid, nil); got["displayName"] != "Test SCIMv20" {
			t.Errorf("a refused PATCH changed the group: %v", got)
		}
		// [okta] "Update specific Group membership": one member out, one in.
		other := e.must(201, tok, "POST", base+"/Users", user("other@okta.local", nil))["id"].(string)
		e.must(200, tok, "PATCH", base+"/Groups/"+gid, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": other}}}}})
		ms := e.must(200, tok, "PATCH", base+"/Groups/"+gid, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
          "op": "remove",
          "path": "members[value eq \"`+other+`\"]"
        },
        {
          "op": "add",
          "path": "members",
          "value": [{
              "value": "`+id+`",
              "display": "test.user@okta.local"
        }]
    }]
}`))
		if got := memberIDs(ms); !slices.Equal(got, []string{id}) || ms["displayName"] != "Test SCIMv20" {
			t.Errorf("after the membership PATCH: %v", ms)
		}
		// [okta] the full push of the membership with replace.
		ms = e.must(200, tok, "PATCH", base+"/Groups/"+gid, body(t, `{
  "schemas": [
    "urn:ietf:params:scim:api:messages:2.0:PatchOp"
  ],
  "Operations": [
    {
      "op": "replace",
      "path": "members",
      "value": [
        {
          "value": "`+id+`",
          "display": "test.user@okta.local"
        },
        {
          "value": "`+other+`",
          "display": "test.user@okta.local"
        }
      ]
    }
  ]
}`))
		if got := memberIDs(ms); !slices.Equal(got, sorted(id, other)) {
			t.Errorf("after the replace: %v", got)
		}
		// [okta] "Delete a specific Group".
		e.must(204, tok, "DELETE", base+"/Groups/"+gid, nil)
	})
}

// TestOnePrimary: at most one value of a multi-valued attribute is primary (RFC 7643
// §2.4); a value sent again is not added twice, and changes nothing.
func TestOnePrimary(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		two := []any{map[string]any{"value": "p1@acme.test", "type": "work", "primary": true},
			map[string]any{"value": "p2@acme.test", "type": "home", "primary": true}}
		scimError(t, e.call(tok, "POST", base+"/Users", user("p@acme.test", map[string]any{"emails": two})), 400, "invalidValue")
		// Duplicate (type, value) pairs are one value.
		u := e.must(201, tok, "POST", base+"/Users", user("p@acme.test", map[string]any{"emails": []any{
			map[string]any{"value": "p@acme.test", "type": "work", "primary": true},
			map[string]any{"value": "P@acme.test", "type": "work"},
			map[string]any{"value": "p@home.test", "type": "home"}}}))
		id := u["id"].(string)
		if got := u["emails"].([]any); len(got) != 2 {
			t.Errorf("emails = %v, want the duplicate collapsed", got)
		}
		scimError(t, e.call(tok, "PUT", base+"/Users/"+id, user("p@acme.test", map[string]any{"emails": two})), 400, "invalidValue")
		scimError(t, e.call(tok, "PATCH", base+"/Users/"+id, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "emails", "value": two}}}), 400, "invalidValue")

		// Adding a value that is there changes nothing, not even lastModified.
		before := e.must(200, tok, "GET", base+"/Users/"+id, nil)
		time.Sleep(10 * time.Millisecond)
		same := e.must(200, tok, "PATCH", base+"/Users/"+id, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "p@home.test", "type": "home"}}}}})
		if len(same["emails"].([]any)) != 2 || meta(same, "lastModified") != meta(before, "lastModified") {
			t.Errorf("after adding an existing value: %v (lastModified was %v)", same, meta(before, "lastModified"))
		}
		// Replacing with the same value changes nothing either (what Entra ID sends each cycle).
		same = e.must(200, tok, "PATCH", base+"/Users/"+id, map[string]any{"Operations": []any{
			map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "p@acme.test"}}})
		if meta(same, "lastModified") != meta(before, "lastModified") {
			t.Errorf("an unchanged replace moved lastModified: %v → %v", meta(before, "lastModified"), meta(same, "lastModified"))
		}

		// A new primary unsets the old one: by add, and by a value filter.
		u = e.must(200, tok, "PATCH", base+"/Users/"+id, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "p@home.test", "type": "home", "primary": true}}}}})
		if got := primaries(u); !slices.Equal(got, []string{"p@home.test"}) || len(u["emails"].([]any)) != 2 {
			t.Errorf("after a new primary by add: primaries %v in %v", got, u["emails"])
		}
		if meta(u, "lastModified") == meta(before, "lastModified") {
			t.Errorf("a change kept lastModified")
		}
		u = e.must(200, tok, "PATCH", base+"/Users/"+id, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": `emails[type eq "work"].primary`, "value": true}}})
		if got := primaries(u); !slices.Equal(got, []string{"p@acme.test"}) {
			t.Errorf("after a new primary by filter: primaries %v in %v", got, u["emails"])
		}
		u = e.must(200, tok, "PATCH", base+"/Users/"+id, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "p@new.test", "type": "other", "primary": "True"}}}}})
		if got := primaries(u); !slices.Equal(got, []string{"p@new.test"}) || len(u["emails"].([]any)) != 3 {
			t.Errorf("after a new primary value: primaries %v in %v", got, u["emails"])
		}
		if got := primaries(e.must(200, tok, "GET", base+"/Users/"+id, nil)); !slices.Equal(got, []string{"p@new.test"}) {
			t.Errorf("stored primaries %v", got)
		}
	})
}

func meta(r map[string]any, k string) any { return r["meta"].(map[string]any)[k] }

func primaries(u map[string]any) []string {
	var out []string
	for _, x := range u["emails"].([]any) {
		if m := x.(map[string]any); m["primary"] == true {
			out = append(out, m["value"].(string))
		}
	}
	return out
}

// TestUnsetOmitted: attributes without a value are left out, not "" (Entra ID reads
// "" as a value to replace each cycle); a group member without an address shows no
// placeholder address; a path with // is a SCIM 404, not a redirect.
func TestUnsetOmitted(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		e.must(201, tok, "POST", base+"/Users", user("owner@acme.test", nil))
		// A user with no names, whose only address is another member's: its account
		// has no address of its own.
		u := e.must(201, tok, "POST", base+"/Users", map[string]any{"userName": "nameless",
			"emails": []any{map[string]any{"value": "owner@acme.test", "type": "work"}}})
		raw := e.call(tok, "GET", base+"/Users/"+u["id"].(string), nil).Raw
		if strings.Contains(raw, `""`) || strings.Contains(raw, `"name"`) || strings.Contains(raw, `"displayName"`) {
			t.Errorf("unset attributes shown: %s", raw)
		}
		g := e.must(201, tok, "POST", base+"/Groups", map[string]any{"displayName": "G",
			"members": []any{map[string]any{"value": u["id"]}}})
		raw = e.call(tok, "GET", base+"/Groups/"+g["id"].(string), nil).Raw
		if strings.Contains(raw, "scim.invalid") || !strings.Contains(raw, `"display":"nameless"`) {
			t.Errorf("group = %s", raw)
		}
		for _, path := range []string{base + "//Users", base + "/Users//" + u["id"].(string), "/scim/v2//organizations/acme/Users",
			base + "/./Users", base + "/Groups/../Users"} {
			r := e.call(tok, "GET", path, nil)
			scimError(t, r, 404, "")
			if r.Header.Get("Location") != "" {
				t.Errorf("%s redirects to %s", path, r.Header.Get("Location"))
			}
		}
	})
}
