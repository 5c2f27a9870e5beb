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
		// Nor does adding it without its type, as Okta may.
		same = e.must(200, tok, "PATCH", base+"/Users/"+id, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "P@HOME.test"}}}}})
		if len(same["emails"].([]any)) != 2 || meta(same, "lastModified") != meta(before, "lastModified") {
			t.Errorf("after adding an existing value without its type: %v", same)
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

// TestEntraUsers runs Entra ID's documented user requests: [entra-tutorial] "User
// Operations" and its examples, and every request body of [entra-compat], with and
// without the feature flag.
func TestEntraUsers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
		// [entra-tutorial] "Create User": a userName that is no address, the address in emails.
		u := e.must(201, tok, "POST", base+"/Users", body(t, `{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}`))
		id := u["id"].(string)
		users := base + "/Users/" + id
		if u["userName"] != "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee" || u["externalId"] != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
			t.Errorf("created = %v", u)
		}
		acct := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+id, nil)["account"].(map[string]any)
		if acct["email"] != "test_user_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com" && acct["email"] != "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com" {
			t.Errorf("account = %v", acct)
		}
		// [entra-tutorial] "Get User by query", by userName and by the work address
		// (its "/Users:" rule: both matching attributes must filter).
		for _, f := range []string{`userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"`,
			`emails[type eq "work"].value eq "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"`,
			`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`} {
			if l := e.must(200, tok, "GET", base+"/Users?filter="+query(f), nil); l["totalResults"] != 1.0 {
				t.Errorf("filter %s: %v", f, l)
			}
		}
		// "Get User by query - Zero results", and Test Connection's random GUID.
		for _, f := range []string{`userName eq "non-existent user"`, `externalId eq "9f6f2c7e-0d5a-4b57-9a51-2f8f4f1f3b33"`,
			`emails[type eq "work"].value eq "nobody@testuser.com"`} {
			if l := e.must(200, tok, "GET", base+"/Users?filter="+query(f), nil); l["totalResults"] != 0.0 || len(l["Resources"].([]any)) != 0 {
				t.Errorf("filter %s: %v", f, l)
			}
		}
		// [entra-tutorial] "Update User [Multi-valued properties]".
		got := e.must(200, tok, "PATCH", users, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
            {
            "op": "Replace",
            "path": "emails[type eq \"work\"].value",
            "value": "updatedEmail@microsoft.com"
            },
            {
            "op": "Replace",
            "path": "name.familyName",
            "value": "updatedFamilyName"
            }
    ]
}`))
		if em := got["emails"].([]any); len(em) != 1 || em[0].(map[string]any)["value"] != "updatedEmail@microsoft.com" ||
			em[0].(map[string]any)["primary"] != true || got["name"].(map[string]any)["familyName"] != "updatedFamilyName" {
			t.Errorf("after the multi-valued update: %v", got)
		}
		// [entra-tutorial] "Update User [Single-valued properties]".
		got = e.must(200, tok, "PATCH", users, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Replace",
        "path": "userName",
        "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    }]
}`))
		if got["userName"] != "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" {
			t.Errorf("after the userName update: %v", got)
		}
		// [entra-compat] "Requests to replace multiple attributes", without and with the flag.
		got = e.must(200, tok, "PATCH", users, body(t, `{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "Replace",
            "path": "displayName",
            "value": "Pvlo"
        },
        {
            "op": "Replace",
            "path": "emails[type eq \"work\"].value",
            "value": "TestBcwqnm@test.microsoft.com"
        },
        {
            "op": "Replace",
            "path": "name.givenName",
            "value": "Gtfd"
        },
        {
            "op": "Replace",
            "path": "name.familyName",
            "value": "Pkqf"
        },
        {
            "op": "Replace",
            "path": "externalId",
            "value": "Eqpj"
        },
        {
            "op": "Replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "value": "Eqpj"
        }
    ]
}`))
		if got["displayName"] != "Pvlo" || got["name"].(map[string]any)["givenName"] != "Gtfd" || got["externalId"] != "Eqpj" ||
			got[ent].(map[string]any)["employeeNumber"] != "Eqpj" || got["emails"].([]any)[0].(map[string]any)["value"] != "TestBcwqnm@test.microsoft.com" {
			t.Errorf("after replacing several attributes: %v", got)
		}
		got = e.must(200, tok, "PATCH", users, body(t, `{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "replace",
            "path": "emails[type eq \"work\"].value",
            "value": "TestMhvaes@test.microsoft.com"
        },
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
            }
        }
    ]
}`))
		if got["displayName"] != "Bjfe" || got["name"].(map[string]any)["familyName"] != "Unua" ||
			got[ent].(map[string]any)["employeeNumber"] != "Aklq" || len(got["emails"].([]any)) != 1 {
			t.Errorf("after replacing several attributes (flag): %v", got)
		}
		// [entra-compat] "Requests made to add a single-value string attribute", both forms.
		for _, op := range []string{"Add", "add"} {
			got = e.must(200, tok, "PATCH", users, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
      {
        "op": "`+op+`",
        "path": "nickName",
        "value": "Babs"
      }
    ]
}`))
			if got["nickName"] != "Babs" {
				t.Errorf("nickName = %v", got["nickName"])
			}
		}
		// [entra-tutorial] Example 5: the manager added as a reference, by the path
		// "manager"; then the enterprise paths with and without .value.
		got = e.must(200, tok, "PATCH", users, body(t, `{
    "schemas": 
    [
      "urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations":
    [
      {
        "op":"Add",
        "path":"manager",
        "value":
          [
            {
              "$ref":"http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
              "value":"00aa00aa-bb11-cc22-dd33-44ee44ee44ee"}]}]}`))
		if m := got[ent].(map[string]any)["manager"]; m.(map[string]any)["value"] != "00aa00aa-bb11-cc22-dd33-44ee44ee44ee" {
			t.Errorf("manager = %v", m)
		}
		for _, c := range []struct {
			path  string
			value any
		}{{ent + ":manager.value", "mgr-2"}, {ent + ":manager", map[string]any{"value": "mgr-3"}}} {
			path, value := c.path, c.value
			got = e.must(200, tok, "PATCH", users, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "Replace", "path": path, "value": value}}})
			want := scalar(value)
			if m := got[ent].(map[string]any)["manager"]; m.(map[string]any)["value"] != want {
				t.Errorf("after %s: manager = %v, want %v", path, m, want)
			}
		}
		if got = e.must(200, tok, "GET", users, nil); got[ent].(map[string]any)["manager"].(map[string]any)["value"] != "mgr-3" {
			t.Errorf("stored manager = %v", got[ent])
		}
		got = e.must(200, tok, "PATCH", users, map[string]any{"Operations": []any{map[string]any{"op": "Remove", "path": ent + ":manager"}}})
		if x, _ := got[ent].(map[string]any); x["manager"] != nil {
			t.Errorf("after removing the manager: %v", x)
		}
		// The attribute table's value filters of phoneNumbers and addresses.
		got = e.must(200, tok, "PATCH", users, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{
				map[string]any{"op": "Add", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+1 555 0100"},
				map[string]any{"op": "Add", "path": `phoneNumbers[type eq "fax"].value`, "value": "+1 555 0101"},
				map[string]any{"op": "Add", "path": `addresses[type eq "work"].streetAddress`, "value": "1 Main St"},
				map[string]any{"op": "Add", "path": `addresses[type eq "work"].postalCode`, "value": "98052"},
				map[string]any{"op": "Add", "path": `addresses[type eq "other"].formatted`, "value": "Building 4"},
				map[string]any{"op": "Add", "path": "title", "value": "Engineer"},
			}})
		if ph := got["phoneNumbers"].([]any); len(ph) != 2 {
			t.Errorf("phoneNumbers = %v", ph)
		}
		addr := got["addresses"].([]any)
		if len(addr) != 2 || addr[0].(map[string]any)["streetAddress"] != "1 Main St" || addr[0].(map[string]any)["postalCode"] != "98052" {
			t.Errorf("addresses = %v", addr)
		}
		if l := e.must(200, tok, "GET", base+"/Users?filter="+query(`phoneNumbers[type eq "mobile"].value eq "+1 555 0100"`), nil); l["totalResults"] != 1.0 {
			t.Errorf("by mobile: %v", l)
		}
		// [entra-compat] "Requests made to disable users", without the flag (a string)
		// and with it; [entra-tutorial] "Disable User": 200 with the User.
		for _, v := range []string{`"False"`, `false`} {
			got = e.must(200, tok, "PATCH", users, body(t, `{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": `+v+`
        }
    ]
}`))
			if got["active"] != false || got["id"] != id {
				t.Errorf("disabled by %s: %v", v, got)
			}
		}
		// "Delete User".
		e.must(204, tok, "DELETE", users, nil)
		scimError(t, e.call(tok, "GET", users, nil), 404, "")

		// [entra-tutorial] Example 2, "Provision a user": nulls for absent attributes,
		// and the extension's URN as Entra ID misspells it there.
		u = e.must(201, tok, "POST", base+"/Users", body(t, `{
   "schemas":
   [
     "urn:ietf:params:scim:schemas:core:2.0:User",
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
   "externalId":"jyoung",
   "userName":"jyoung@testuser.com",
   "active":true,
   "addresses":null,
   "displayName":"Joy Young",
   "emails": [
     {
       "type":"work",
       "value":"jyoung@Contoso.com",
       "primary":true}],
   "meta": {
     "resourceType":"User"},
    "name":{
     "familyName":"Young",
     "givenName":"Joy"},
   "phoneNumbers":null,
   "preferredLanguage":null,
   "title":null,
   "department":null,
   "manager":null}`))
		if u["displayName"] != "Joy Young" || u["addresses"] != nil || u["title"] != nil {
			t.Errorf("provisioned = %v", u)
		}
		// Example 1: the query by externalId with a bare word.
		if l := e.must(200, tok, "GET", base+"/Users?filter="+query(`externalId eq jyoung`), nil); l["totalResults"] != 1.0 {
			t.Errorf("by externalId: %v", l)
		}
	})
}

func scalar(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["value"]
	}
	return v
}

// TestEntraGroups runs Entra ID's documented group requests ([entra-tutorial]
// "Group Operations").
func TestEntraGroups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		member := e.must(201, tok, "POST", base+"/Users", user("f648@acme.test", nil))["id"].(string)
		// "Create Group", with Entra ID's second schema.
		g := e.must(201, tok, "POST", base+"/Groups", body(t, `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {
        "resourceType": "Group"
    }
}`))
		id := g["id"].(string)
		if g["externalId"] != "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" || len(g["members"].([]any)) != 0 {
			t.Errorf("created = %v", g)
		}
		// "Get Group" and "Get Group by displayName", without members.
		if got := e.must(200, tok, "GET", base+"/Groups/"+id+"?excludedAttributes=members", nil); got["members"] != nil || got["displayName"] != "displayName" {
			t.Errorf("get = %v", got)
		}
		l := e.must(200, tok, "GET", base+"/Groups?excludedAttributes=members&filter="+query(`displayName eq "displayName"`), nil)
		if l["totalResults"] != 1.0 || l["Resources"].([]any)[0].(map[string]any)["members"] != nil {
			t.Errorf("by displayName = %v", l)
		}
		// "Update Group [Non-member attributes]".
		got := e.must(200, tok, "PATCH", base+"/Groups/"+id, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Replace",
        "path": "displayName",
        "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    }]
}`))
		if got["displayName"] != "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" {
			t.Errorf("renamed = %v", got)
		}
		// "Update Group [Add Members]", with its "$ref": null; sent twice, one member.
		for range 2 {
			got = e.must(200, tok, "PATCH", base+"/Groups/"+id, body(t, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Add",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": "`+member+`"
        }]
    }]
}`))
			if ids := memberIDs(got); !slices.Equal(ids, []string{member}) {
				t.Errorf("after adding: %v", ids)
			}
		}
		// The member filter Entra ID checks membership with.
		if l := e.must(200, tok, "GET", base+"/Groups?excludedAttributes=members&filter="+query(`id eq "`+id+`" and members[value eq "`+member+`"]`), nil); l["totalResults"] != 1.0 {
			t.Errorf("membership filter = %v", l)
		}
		// "Update Group [Remove Members]" is TestEntraRemoveMember; "Delete Group".
		e.must(204, tok, "DELETE", base+"/Groups/"+id, nil)
		scimError(t, e.call(tok, "GET", base+"/Groups/"+id, nil), 404, "")
	})
}

// TestValueFilterUndescribed: a member no identity provider has described shows its
// account's address as its one work email (and phone as its work phone); value
// filters find it by them, as Entra ID matches existing people by mail.
func TestValueFilterUndescribed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		id := e.member("acme", "erin@acme.test", "member")
		for f, want := range map[string]float64{
			`emails[type eq "work"].value eq "Erin@acme.test"`:     1,
			`emails[type eq "work" and primary eq true]`:           1,
			`emails[type eq "home"].value eq "erin@acme.test"`:     0,
			`phoneNumbers[type eq "work"]`:                         0,
			`emails[value ew "@acme.test"] and id eq "` + id + `"`: 1,
		} {
			if l := e.must(200, tok, "GET", base+"/Users?filter="+query(f), nil); l["totalResults"] != want {
				t.Errorf("filter %s: %v results, want %v", f, l["totalResults"], want)
			}
		}
	})
}
