package wellformed

import (
	"net/http/httptest"
	"testing"
)

func TestJSON(t *testing.T) {
	for _, c := range []struct {
		in, field string // field "" wants no fault
	}{
		{`{"email":"a@b.c","n":1,"ok":true,"x":null}`, ""},
		{`{"name":"Zoë \ud83d\ude00 \u00e9 \n"}`, ""}, // a surrogate pair is one character
		{`["a",{"b":[1,2,"c"]}]`, ""},
		{"{\"email\":\"a\x00b\"}", "email"},
		{`{"email":"a\u0000b"}`, "email"},
		{"{\"email\":\"a\xffb\"}", "email"},
		{`{"email":"a\ud800b"}`, "email"},
		{`{"email":"a\udc00b"}`, "email"},
		{`{"ok":"x","teams":["a","b\u0000"]}`, "teams[1]"},
		{`{"user":{"name":{"given":"\u0000"}}}`, "user.name.given"},
		{`{"Operations":[{"op":"replace","value":{"name.givenName":"\u0000"}}]}`, "Operations[0].value.name.givenName"},
		{`"\u0000"`, "body"},
		{`{"a\u0000":"x"}`, "body"},
		{`{"a":{"b\u0000":"x"}}`, "a"},
		{`{"a":"x"`, ""},              // not JSON: the decoder's 400
		{`{"a":"x\u00"}`, ""},         // a bad escape: the decoder's 400
		{`{"a":1,"b":"x\u0000"`, "b"}, // found before the document ends
	} {
		f := JSON([]byte(c.in))
		switch {
		case c.field == "" && f != nil:
			t.Errorf("JSON(%q) = %+v, want no fault", c.in, f)
		case c.field != "" && (f == nil || f.Field != c.field):
			t.Errorf("JSON(%q) = %+v, want a fault on %s", c.in, f, c.field)
		}
	}
}

func TestPathAndQuery(t *testing.T) {
	r := httptest.NewRequest("GET", "/api/v1/organizations/acme/members/a%00b?q=x", nil)
	if f := Path(r, "GET /api/v1/organizations/{org}/members/{account}"); f == nil || f.Field != "account" {
		t.Errorf("Path = %+v, want account", f)
	}
	if f := Path(r, ""); f == nil || f.Field != "path" {
		t.Errorf("Path without a pattern = %+v, want path", f)
	}
	if f := Query(r); f != nil {
		t.Errorf("Query(q=x) = %+v", f)
	}
	for query, field := range map[string]string{"q=a%FFb": "q", "limit=1&cursor=%00": "cursor", "a%00=1": "query", "q=caf%C3%A9": ""} {
		r := httptest.NewRequest("GET", "/x?"+query, nil)
		f := Query(r)
		if (field == "") != (f == nil) || f != nil && f.Field != field {
			t.Errorf("Query(%s) = %+v, want %q", query, f, field)
		}
	}
}
