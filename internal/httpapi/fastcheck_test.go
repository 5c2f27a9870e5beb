package httpapi_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
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

// TestCheckLog: the check's 200 answers are logged at most once a second, with the
// count of those held back; each of its other answers is logged, as every answer of
// the other routes.
func TestCheckLog(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "prod"})["key"].(string)
		bob := accountID(e.member(e.op, "acme", "bob@acme.test", "member"))
		const n = 20
		start := time.Now()
		for range n {
			e.must(200, key, "GET", "/api/v1/check?organization=acme&account="+bob, nil)
		}
		elapsed := time.Since(start)
		problem(t, e.call(key, "GET", "/api/v1/check?account="+bob, nil), 422, "validation", "organization")
		problem(t, e.call(key, "GET", "/api/v1/check?account="+bob, nil), 422, "validation", "organization")
		problem(t, e.call("", "GET", "/api/v1/check?organization=acme&account="+bob, nil), 401, "unauthenticated")
		e.must(200, e.op, "GET", "/api/v1/me", nil)
		e.must(200, e.op, "GET", "/api/v1/me", nil)

		count := func(status string) (lines int, skipped int) {
			for line := range strings.Lines(e.logs.String()) {
				if !strings.Contains(line, "msg=request ") || !strings.Contains(line, `route="GET /api/v1/check"`) ||
					!strings.Contains(line, " status="+status+" ") {
					continue
				}
				lines++
				if _, s, ok := strings.Cut(line, " skipped="); ok {
					k, err := strconv.Atoi(strings.TrimSpace(s))
					if err != nil {
						t.Fatalf("skipped is not a count: %s", line)
					}
					skipped += k
				}
			}
			return lines, skipped
		}
		lines, skipped := count("200")
		if most := 1 + int(elapsed/time.Second); lines < 1 || lines > most || lines+skipped > n {
			t.Errorf("%d checks in %s logged %d lines saying %d skipped; want 1 to %d lines, at most %d in all", n, elapsed, lines, skipped, most, n)
		}
		if lines, _ := count("422"); lines != 2 {
			t.Errorf("two 422 checks logged %d lines", lines)
		}
		if lines, _ := count("401"); lines != 1 {
			t.Errorf("a 401 check logged %d lines", lines)
		}
		if me := strings.Count(e.logs.String(), `route="GET /api/v1/me" status=200`); me != 2 {
			t.Errorf("two GET /api/v1/me logged %d lines", me)
		}
	})
}
