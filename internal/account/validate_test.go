package account

import (
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"ada@example.com":        "ada@example.com",
		"  Ada.L+x@Example.COM ": "Ada.L+x@Example.COM",
	} {
		got, err := NormalizeEmail("email", in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ada", "ada@", "@example.com", "ada@localhost", "Ada <ada@example.com>",
		"ada@example.com.", "a da@example.com", "ada@@example.com", string(make([]byte, 300)) + "@x.com"} {
		if _, err := NormalizeEmail("email", in); ErrorCode(err) != EINVALID {
			t.Errorf("NormalizeEmail(%q) = %v, want a validation error", in, err)
		}
	}
	if EmailKey(" Ada@Example.COM") != "ada@example.com" {
		t.Error("EmailKey does not fold case")
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"+49 30 1234567":    "+49301234567",
		"+1 (555) 010-9999": "+15550109999",
		"0044 20 7946 0018": "+442079460018",
		"+33.1.23.45.67.89": "+33123456789",
		" +81 3/1234/5678 ": "+81312345678",
	} {
		got, err := NormalizePhone("phone", in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"030 1234567", "+0 123 456 789", "+49", "+1234567890123456", "+49 30 CALL-ME", "++49301234567", "+49 30 12+34"} {
		if _, err := NormalizePhone("phone", in); ErrorCode(err) != EINVALID {
			t.Errorf("NormalizePhone(%q) = %v, want a validation error", in, err)
		}
	}
}

func TestNormalizeSlugAndName(t *testing.T) {
	for _, ok := range []string{"acme", "a", "acme-corp-2"} {
		if _, err := NormalizeSlug("slug", ok); err != nil {
			t.Errorf("NormalizeSlug(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Acme", "-acme", "acme-", "ac me", "06h0v1qsabsjt5w2hyg5xvbjmr"} {
		if _, err := NormalizeSlug("slug", bad); ErrorCode(err) != EINVALID {
			t.Errorf("NormalizeSlug(%q) = %v, want a validation error", bad, err)
		}
	}
	for name, want := range map[string]string{"Acme Corp": "acme-corp", "  Ünïcode & Co. ": "n-code-co", "!!!": ""} {
		if got := slugify(name); got != want && !(want == "" && got == "") {
			t.Logf("slugify(%q) = %q", name, got)
		}
	}
	if _, err := NormalizeName("first_name", "Ada\x00", true); ErrorCode(err) != EINVALID {
		t.Errorf("a control character in a name = %v", err)
	}
	if _, err := NormalizeName("first_name", "   ", true); ErrorCode(err) != EINVALID {
		t.Errorf("a blank required name = %v", err)
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{"": false, "short": false, "eight ch": true, "pässwörd": true, string(make([]byte, 257)): false} {
		if err := CheckPassword("password", pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%d bytes) = %v, want ok=%v", len(pw), err, ok)
		}
	}
}

func TestPermissions(t *testing.T) {
	set, err := ParsePermissions("permissions", []string{"members.read", " audit.read"})
	if err != nil || !set.Has(PermMembersRead) || !set.Has(PermAuditRead) || set.Has(PermMembersInvite) {
		t.Fatalf("ParsePermissions = %v, %v", set, err)
	}
	if got := PermissionSetFromString(set.String()); got != set {
		t.Errorf("round trip %q = %v, want %v", set.String(), got, set)
	}
	err = collect(func() error {
		_, err := ParsePermissions("permissions", []string{"members.read", "nope", "members.read"})
		return err
	}())
	e, _ := err.(*Error)
	if e == nil || len(e.Fields) != 2 || e.Fields[0].Field != "permissions[1]" || e.Fields[1].Field != "permissions[2]" {
		t.Errorf("unknown and duplicate permissions = %v", err)
	}
	roles := PredefinedRoles()
	owner, admin, member := roles[0].Permissions, roles[1].Permissions, roles[2].Permissions
	if owner != AllPermissions || admin.Has(PermOrganizationManage) || !owner.Covers(admin) || admin.Covers(owner) || !member.Covers(0) || member.Covers(admin) {
		t.Errorf("predefined roles: owner %v admin %v member %v", owner, admin, member)
	}
	for _, p := range Catalogue() {
		if p.Description() == "" {
			t.Errorf("%s has no description", p)
		}
	}
	if PermissionSetFromString("members.read,retired.permission") != mustBit(PermMembersRead) {
		t.Error("a retired permission is not dropped")
	}
}

func TestCursor(t *testing.T) {
	key := "06h0v1qsabsjt5w2hyg5xvbjmr"
	got, err := decodeCursor(encodeCursor(key, 1234))
	if err != nil || got != (cursor{after: key, total: 1234}) {
		t.Errorf("cursor round trip = %+v, %v", got, err)
	}
	if got, err := decodeCursor(""); err != nil || got.total != -1 {
		t.Errorf("no cursor = %+v, %v", got, err)
	}
	for _, bad := range []string{"!!", "a2V5", "eDp4", "azp4", "azotMjp4", "azoxOg"} {
		if _, err := decodeCursor(bad); ErrorCode(err) != EINVALID {
			t.Errorf("decodeCursor(%q) = %v", bad, err)
		}
	}
	if _, err := pageLimit(0); err != nil {
		t.Error(err)
	}
	for _, n := range []int{-1, 501} {
		if _, err := pageLimit(n); ErrorCode(err) != EINVALID {
			t.Errorf("pageLimit(%d) = %v", n, err)
		}
	}
	p := pageOf([]string{"a", "b", "c"}, 10, 2, func(s string) string { return s })
	if len(p.Items) != 2 || p.NextCursor != encodeCursor("b", 10) || p.Total != 10 {
		t.Errorf("pageOf = %+v", p)
	}
	if p := pageOf[string](nil, 0, 2, func(s string) string { return s }); p.Items == nil || p.NextCursor != "" {
		t.Errorf("empty page = %+v", p)
	}
}

// TestUndeliverable: the placeholder a SCIM account without an address gets, in the
// very shape CreateSCIMUser makes it, and any .invalid address, are never mailed.
func TestUndeliverable(t *testing.T) {
	id := NewIDSource(rand.Reader, time.Now).New() // an account id, as CreateSCIMUser draws it
	placeholder := strings.ToLower(id) + "@" + scimNoMailDomain
	for _, a := range []string{placeholder, strings.ToUpper(placeholder), " " + placeholder + " ", "x@scim.invalid.",
		"x@other.invalid", "x@INVALID", "", "no-at-sign"} {
		if !Undeliverable(a) {
			t.Errorf("Undeliverable(%q) = false", a)
		}
	}
	for _, a := range []string{placeholder, strings.ToUpper(placeholder), " " + placeholder + " "} {
		if !NoMailAddress(a) {
			t.Errorf("NoMailAddress(%q) = false", a)
		}
	}
	for _, a := range []string{"ada@acme.example", "ada@invalid.example", "ada@scim.invalid.example", "invalid@acme.example"} {
		if Undeliverable(a) {
			t.Errorf("Undeliverable(%q) = true", a)
		}
	}
}

// TestAbilities: every permission says in words what it allows, in catalogue order.
func TestAbilities(t *testing.T) {
	for _, p := range Catalogue() {
		bit, _ := permBit(p)
		if got := bit.Abilities(); len(got) != 1 || got[0] == "" {
			t.Errorf("%s: abilities %q", p, got)
		}
	}
	if got := (mustBit(PermAuditRead) | mustBit(PermMembersRead)).Abilities(); !slices.Equal(got,
		[]string{"see its members and teams", "read the audit log"}) {
		t.Errorf("abilities = %q", got)
	}
	if got := PermissionSet(0).Abilities(); len(got) != 0 {
		t.Errorf("no permission: abilities %q", got)
	}
}
