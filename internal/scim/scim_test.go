package scim_test

import (
	"net/url"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const base = "/scim/v2/organizations/acme"

// TestUsers provisions, reads, filters, patches, replaces and removes users.
func TestUsers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		ann := e.must(201, tok, "POST", base+"/Users", user("ann@acme.test", map[string]any{
			"externalId":   "ext-ann",
			"displayName":  "Ann A.",
			"emails":       []any{map[string]any{"value": "ann@acme.test", "type": "work", "primary": true}},
			"phoneNumbers": []any{map[string]any{"value": "+49 30 123", "type": "work"}},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
				"department": "Sales", "employeeNumber": "E-1", "manager": map[string]any{"value": "boss-1"}},
		}))
		annID := ann["id"].(string)
		if ann["userName"] != "ann@acme.test" || ann["active"] != true || ann["externalId"] != "ext-ann" {
			t.Errorf("created user = %v", ann)
		}
		ent := ann["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
		if ent["department"] != "Sales" || ent["employeeNumber"] != "E-1" || ent["manager"].(map[string]any)["value"] != "boss-1" {
			t.Errorf("enterprise extension = %v", ent)
		}
		// A new account is sent a link to set its password.
		if got := e.outbox(); !slices.Contains(got, "account.activation ann@acme.test") {
			t.Errorf("outbox = %v, want the activation email", got)
		}
		// A user whose userName is no address and whose email is another member's gets
		// an account of its own that is never mailed.
		bob := e.must(201, tok, "POST", base+"/users", user("Bob", map[string]any{"active": "False",
			"emails": []any{map[string]any{"value": "ann@acme.test", "primary": "True"}}}))
		if bob["active"] != false || bob["userName"] != "Bob" {
			t.Errorf("bob = %v", bob)
		}
		e.must(201, tok, "POST", base+"/Users", user("carol@acme.test", map[string]any{"name": map[string]any{"givenName": "Carol", "familyName": "Zed"}}))
		// An existing account joins: its account is reused, and it is not mailed again.
		dave := e.member("acme", "dave@acme.test", "member")
		e.must(204, tok, "DELETE", base+"/Users/"+dave, nil)
		again := e.must(201, tok, "POST", base+"/Users", user("dave@acme.test", nil))
		if again["id"] != dave {
			t.Errorf("dave rejoined as %v, want the account %s", again["id"], dave)
		}

		for _, c := range []struct {
			filter string
			want   []string // userNames, in any order
		}{
			{`userName eq "ANN@acme.test"`, []string{"ann@acme.test"}},
			{`USERNAME Eq "bob"`, []string{"Bob"}},
			{`userName ne "bob"`, []string{"ann@acme.test", "carol@acme.test", "dave@acme.test"}},
			{`userName co "acme"`, []string{"ann@acme.test", "carol@acme.test", "dave@acme.test"}},
			{`userName sw "c"`, []string{"carol@acme.test"}},
			{`userName ew ".TEST"`, []string{"ann@acme.test", "carol@acme.test", "dave@acme.test"}},
			{`emails.value eq "ann@acme.test"`, []string{"ann@acme.test", "Bob"}},
			{`emails[type eq "work"]`, []string{"ann@acme.test"}},
			{`emails[type eq "work" and value eq "ANN@acme.test"]`, []string{"ann@acme.test"}},
			{`emails[type eq "work"].value eq "ann@acme.test"`, []string{"ann@acme.test"}},
			{`emails[type eq "home"].value eq "ann@acme.test"`, []string{}},
			{`emails[value eq "ann@acme.test"]`, []string{"ann@acme.test", "Bob"}},
			{`emails[primary eq true].value sw "ann@"`, []string{"ann@acme.test", "Bob"}},
			{`not emails[type eq "work"] and userName ew ".test"`, []string{"carol@acme.test", "dave@acme.test"}},
			{`phoneNumbers[type eq "work"].value eq "+49 30 123"`, []string{"ann@acme.test"}},
			{`emails[type eq "work"`, nil},      // invalid: checked below
			{`name[givenName eq "x"]`, nil},     // not multi-valued
			{`emails[type[value eq "x"]]`, nil}, // nested
			{`emails[nick eq "x"]`, nil},        // no such sub-attribute
			{`externalId eq "ext-ann"`, []string{"ann@acme.test"}},
			{`externalId pr`, []string{"ann@acme.test"}},
			{`active eq false`, []string{"Bob"}},
			{`not (active eq false) and name.givenName eq "carol"`, []string{"carol@acme.test"}},
			{`name.familyName eq "Zed" or displayName eq "ann a."`, []string{"ann@acme.test", "carol@acme.test"}},
			{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales"`, []string{"ann@acme.test"}},
			{`phoneNumbers.value sw "+49"`, []string{"ann@acme.test"}},
			{`meta.lastModified gt "2000-01-01T00:00:00Z"`, []string{"ann@acme.test", "Bob", "carol@acme.test", "dave@acme.test"}},
			{`meta.lastModified lt 2000-01-01T00:00:00Z`, []string{}},
			{`id eq "` + annID + `"`, []string{"ann@acme.test"}},
		} {
			r := e.call(tok, "GET", base+"/Users?filter="+query(c.filter), nil)
			if c.want == nil {
				scimError(t, r, 400, "invalidFilter")
				continue
			}
			if r.Status != 200 {
				t.Errorf("filter %s = %d\n%s", c.filter, r.Status, r.Raw)
				continue
			}
			got := []string{}
			for _, u := range r.Body["Resources"].([]any) {
				got = append(got, u.(map[string]any)["userName"].(string))
			}
			sort.Strings(got)
			want := slices.Clone(c.want)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" || r.Body["totalResults"] != float64(len(want)) {
				t.Errorf("filter %s (-want +got):\n%s total %v", c.filter, diff, r.Body["totalResults"])
			}
		}
		for _, bad := range []string{`nick eq "x"`, `userName eq`, `userName zz "x"`, `(userName eq "x"`, `active gt true`,
			`meta.created eq "yesterday"`, `userName eq "x" and`} {
			scimError(t, e.call(tok, "GET", base+"/Users?filter="+query(bad), nil), 400, "invalidFilter")
		}

		// Pages and projections.
		page := e.must(200, tok, "GET", base+"/Users?startIndex=2&count=2&attributes=userName", nil)
		if page["totalResults"] != 4.0 || page["itemsPerPage"] != 2.0 || page["startIndex"] != 2.0 {
			t.Errorf("page = %v", page)
		}
		first := page["Resources"].([]any)[0].(map[string]any)
		if _, ok := first["emails"]; ok || first["userName"] == nil || first["id"] == nil {
			t.Errorf("attributes=userName returned %v", first)
		}
		got := e.must(200, tok, "GET", base+"/Users/"+annID+"?excludedAttributes=emails,name.givenName", nil)
		if _, ok := got["emails"]; ok || got["name"].(map[string]any)["givenName"] != nil || got["name"].(map[string]any)["familyName"] != "Family" {
			t.Errorf("excludedAttributes returned %v", got)
		}

		// PATCH: paths, value filters, no path, capitalised ops, string booleans.
		patch := func(ops ...map[string]any) map[string]any {
			return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
		}
		e.must(200, tok, "PATCH", base+"/Users/"+annID, patch(
			map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "ann.new@acme.test"},
			map[string]any{"op": "add", "value": map[string]any{"displayName": "Annie", "name.familyName": "Arbor"}},
			map[string]any{"op": "remove", "path": "externalId"},
			map[string]any{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops"},
		))
		got = e.must(200, tok, "GET", base+"/Users/"+annID, nil)
		if got["displayName"] != "Annie" || got["name"].(map[string]any)["familyName"] != "Arbor" || got["externalId"] != nil ||
			got["emails"].([]any)[0].(map[string]any)["value"] != "ann.new@acme.test" ||
			got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)["department"] != "Ops" {
			t.Errorf("patched = %v", got)
		}
		// active:false deactivates the membership, and the member is told.
		e.must(200, tok, "PATCH", base+"/Users/"+annID, patch(map[string]any{"op": "replace", "path": "active", "value": "False"}))
		if !slices.Contains(e.outbox(), "member.deactivated ann@acme.test") {
			t.Errorf("outbox = %v, want the deactivation email", e.outbox())
		}
		m := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+annID, nil)
		if m["state"] != "deactivated" {
			t.Errorf("member state = %v, want deactivated", m["state"])
		}
		e.must(200, tok, "PATCH", base+"/Users/"+annID, patch(map[string]any{"op": "replace", "value": map[string]any{"active": true}}))
		if m := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+annID, nil); m["state"] != "active" {
			t.Errorf("member state = %v, want active", m["state"])
		}

		// PUT replaces.
		put := e.must(200, tok, "PUT", base+"/Users/"+annID, user("ann@acme.test", map[string]any{"title": "CEO"}))
		if put["title"] != "CEO" || put["displayName"] != "Given Family" {
			t.Errorf("put = %v", put)
		}

		// Errors.
		scimError(t, e.call(tok, "POST", base+"/Users", user("ANN@acme.test", nil)), 409, "uniqueness")
		scimError(t, e.call(tok, "POST", base+"/Users", user("bob", nil)), 409, "uniqueness")
		scimError(t, e.call(tok, "POST", base+"/Users", map[string]any{"active": true}), 400, "invalidValue")
		scimError(t, e.call(tok, "POST", base+"/Users", `{"userName": tre`), 400, "invalidSyntax")
		scimError(t, e.call(tok, "PATCH", base+"/Users/"+annID, patch(map[string]any{"op": "replace", "path": "id", "value": "x"})), 400, "mutability")
		scimError(t, e.call(tok, "PATCH", base+"/Users/"+annID, patch(map[string]any{"op": "jump", "path": "id"})), 400, "invalidValue")
		scimError(t, e.call(tok, "PUT", base+"/Users/"+annID, user("bob", nil)), 409, "uniqueness")
		scimError(t, e.call(tok, "GET", base+"/Users/nobody", nil), 404, "")
		scimError(t, e.call(tok, "GET", base+"/Users?count=x", nil), 400, "invalidValue")

		// DELETE removes the membership; the account survives.
		e.must(204, tok, "DELETE", base+"/Users/"+annID, nil)
		scimError(t, e.call(tok, "GET", base+"/Users/"+annID, nil), 404, "")
		scimError(t, e.call(tok, "DELETE", base+"/Users/"+annID, nil), 404, "")
		if back := e.must(201, tok, "POST", base+"/Users", user("ann@acme.test", nil)); back["id"] != annID {
			t.Errorf("ann's account did not survive: rejoined as %v, want %s", back["id"], annID)
		}
	})
}

func query(s string) string { return url.QueryEscape(s) }
