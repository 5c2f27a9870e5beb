package httpapi_test

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestFastCheckAnswersAsHuma: GET /api/v1/check answers, through its own handler
// (fastCheck), exactly what huma's generic path answers — status, body bytes and the
// headers a client reads — for every kind of answer: each reason, each problem of
// authentication and validation, the forms of a query huma reads its own way, and
// the Accept headers it negotiates.
func TestFastCheckAnswersAsHuma(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "support", "name": "Support"})
		key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "prod"})["key"].(string)
		other := e.must(201, e.op, "POST", "/api/v1/applications/support/keys", map[string]any{})["key"].(string)
		sub := e.subscribe("acme", "studio", 10, 30*24*time.Hour)
		bob := accountID(e.member(e.op, "acme", "bob@acme.test", "member"))
		ann := accountID(e.member(e.op, "acme", "ann@acme.test", "member"))
		e.must(200, e.op, "PUT", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string)+"/seats/"+bob, nil)

		type req struct{ auth, query, accept string }
		bearer := func(k string) string { return "Bearer " + k }
		cases := []req{
			{bearer(key), "organization=acme&account=" + bob, ""},                         // ok
			{bearer(key), "organization=acme&account=" + ann, ""},                         // no-seat
			{bearer(key), "organization=acme&account=nobody", ""},                         // not-member
			{bearer(key), "organization=%3Cb%3E%26&account=" + bob, ""},                   // not-member, HTML in the query
			{bearer(key), "account=" + bob + "&organization=acme&application=studio", ""}, // the application named
			{bearer(key), "organization=acme&organization=other&account=" + bob, ""},      // a repeated parameter: the first
			{bearer(key), "organization&account=" + bob, ""},                              // a parameter without a value
			{bearer(key), "organization=acme&account=" + bob + "&unknown=1", ""},          // an unknown parameter
			{bearer(key), "account=" + bob, ""},                                           // 422: organization missing
			{bearer(key), "organization=acme", ""},                                        // 422: account missing
			{bearer(key), "organization=acme&account=" + bob + "&application=nowhere", ""},
			{bearer(other), "organization=acme&account=" + bob + "&application=studio", ""}, // 403: another application
			{"", "organization=acme&account=" + bob, ""},                                    // 401: no credentials
			{"Basic abc", "organization=acme&account=" + bob, ""},                           // 401: not a bearer token
			{"Bearer \xff", "organization=acme&account=" + bob, ""},                         // 401: not text
			{bearer("rk_nonsense"), "organization=acme&account=" + bob, ""},                 // 401: no such key
			{bearer(e.op), "organization=acme&account=" + bob, ""},                          // 401: a session, not a key
			{bearer(key), "organization=acme&account=" + bob, "application/json"},
			{bearer(key), "organization=acme&account=" + bob, "*/*"},
			{bearer(key), "organization=acme&account=" + bob, "text/html"},
			{bearer(key), "organization=acme&account=" + bob, "application/cbor"},
			{bearer(key), "account=" + bob, "application/problem+json, application/json;q=0.5"},
		}
		type answer struct {
			status int
			header http.Header
			body   string
		}
		get := func(c req) answer {
			t.Helper()
			r, err := http.NewRequest("GET", e.srv.URL+"/api/v1/check?"+c.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("X-Request-ID", "same-request-id")
			if c.auth != "" {
				r.Header.Set("Authorization", c.auth)
			}
			if c.accept != "" {
				r.Header.Set("Accept", c.accept)
			}
			res, err := e.srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			res.Header.Del("Date")
			return answer{res.StatusCode, res.Header, string(b)}
		}
		statuses := map[int]bool{}
		for _, c := range cases {
			e.api.CheckThroughHuma(true)
			want := get(c)
			e.api.CheckThroughHuma(false)
			got := get(c)
			statuses[want.status] = true
			if got.status != want.status || got.body != want.body {
				t.Errorf("%+v: fastCheck answered %d %q, huma %d %q", c, got.status, got.body, want.status, want.body)
			}
			for k := range want.header {
				if got.header.Get(k) != want.header.Get(k) || len(got.header[k]) != len(want.header[k]) {
					t.Errorf("%+v: header %s = %q from fastCheck, %q from huma", c, k, got.header[k], want.header[k])
				}
			}
			for k := range got.header {
				if _, ok := want.header[k]; !ok {
					t.Errorf("%+v: fastCheck sent header %s = %q, huma none", c, k, got.header[k])
				}
			}
		}
		for _, s := range []int{200, 401, 403, 422} {
			if !statuses[s] {
				t.Errorf("no case answered %d: the comparison does not cover it", s)
			}
		}
	})
}
