package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// callKey sends a JSON request as token with the Idempotency-Key header values
// given (none when keys is empty).
func (e *env) callKey(token, method, path string, body any, keys ...string) resp {
	e.t.Helper()
	var r io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case upload: // a multipart form, with a boundary of its own each time
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("file", b.name)
		if err != nil {
			e.t.Fatal(err)
		}
		fw.Write(b.content)
		mw.Close()
		r, contentType = &buf, mw.FormDataContentType()
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, k := range keys {
		req.Header.Add("Idempotency-Key", k)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	e.api.Settle()
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

// effects counts what writes leave behind: the organization's audit events and
// the outbox's emails.
func (e *env) effects(orgID string) (audits, emails int) {
	e.t.Helper()
	ctx := context.Background()
	err := e.db.Read(ctx, func(tx account.Tx) error {
		var err error
		audits, err = tx.CountAudit(ctx, orgID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	counts, err := e.db.CountEmails(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, n := range counts {
		emails += n
	}
	return audits, emails
}

// TestIdempotentReplay: the same key, caller and request replays the first answer
// (status, body, Content-Type) and writes nothing more: one member, one audit event,
// one email. Another body or another path with the key is 422 naming the header.
func TestIdempotentReplay(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		org := e.org("acme", "")
		e.org("globex", "")
		orgID := org["id"].(string)
		path := "/api/v1/organizations/acme/members"
		body := map[string]any{"email": "ada@acme.test", "first_name": "Ada", "last_name": "L",
			"role": "member", "send_invite": true}
		const key = `"8e03978e-40d5-43e8-bc93-6894a57f9324"`

		audits0, emails0 := e.effects(orgID)
		first := e.callKey(e.op, "POST", path, body, key)
		if first.Status != 201 {
			t.Fatalf("first = %d\n%s", first.Status, first.Raw)
		}
		if first.Header.Get("Idempotent-Replayed") != "" {
			t.Error("the first answer says it is a replay")
		}
		audits1, emails1 := e.effects(orgID)
		if audits1 == audits0 || emails1 != emails0+1 {
			t.Fatalf("first request: audits %d→%d, emails %d→%d", audits0, audits1, emails0, emails1)
		}
		for range 2 {
			again := e.callKey(e.op, "POST", path, body, key)
			if again.Status != first.Status || again.Raw != first.Raw {
				t.Fatalf("replay = %d %s, want %d %s", again.Status, again.Raw, first.Status, first.Raw)
			}
			for _, h := range []string{"Content-Type", "Location"} {
				if again.Header.Get(h) != first.Header.Get(h) {
					t.Errorf("replay's %s = %q, want %q", h, again.Header.Get(h), first.Header.Get(h))
				}
			}
			if again.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay's Idempotent-Replayed = %q", again.Header.Get("Idempotent-Replayed"))
			}
		}
		if a, m := e.effects(orgID); a != audits1 || m != emails1 {
			t.Fatalf("replays wrote: audits %d→%d, emails %d→%d", audits1, a, emails1, m)
		}
		// The same key without quotes is the same key.
		if bare := e.callKey(e.op, "POST", path, body, strings.Trim(key, `"`)); bare.Raw != first.Raw {
			t.Errorf("bare key = %d %s, want the replay", bare.Status, bare.Raw)
		}
		// Without the key, the request runs again: the member exists.
		problem(t, e.callKey(e.op, "POST", path, body), 409, account.EDUPLICATEEMAIL)

		other := map[string]any{"email": "bob@acme.test", "first_name": "Bob", "last_name": "L",
			"role": "member", "send_invite": true}
		problem(t, e.callKey(e.op, "POST", path, other, key), 422, "idempotency-key-reused", "Idempotency-Key")
		problem(t, e.callKey(e.op, "POST", "/api/v1/organizations/globex/members", body, key), 422,
			"idempotency-key-reused", "Idempotency-Key")
		if a, m := e.effects(orgID); a != audits1 || m != emails1 {
			t.Fatalf("refused reuses wrote: audits %d→%d, emails %d→%d", audits1, a, emails1, m)
		}

		// A 4xx is the request's answer: kept and replayed, not run again.
		bad := map[string]any{"name": ""}
		r1 := e.callKey(e.op, "POST", "/api/v1/organizations/acme/teams", bad, "bad-team")
		problem(t, r1, 422, account.EINVALID)
		r2 := e.callKey(e.op, "POST", "/api/v1/organizations/acme/teams", bad, "bad-team")
		if r2.Raw != r1.Raw || r2.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("4xx retry = %d %s (replayed %q), want the first answer", r2.Status, r2.Raw, r2.Header.Get("Idempotent-Replayed"))
		}
	})
}

// TestIdempotencyKeyMalformed: a key that is empty, too long, not printable ASCII,
// badly quoted, or sent twice is 400 naming the header, and nothing runs.
func TestIdempotencyKeyMalformed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		org := e.org("acme", "")
		path := "/api/v1/organizations/acme/teams"
		audits0, _ := e.effects(org["id"].(string))
		for _, keys := range [][]string{
			{""}, {`""`}, {strings.Repeat("k", 256)}, {`"` + strings.Repeat("k", 256) + `"`},
			{"a\tb"}, {"clé"}, {`"clé"`}, {`"abc`}, {`"a"b"`}, {`"a\b"`}, {"one", "two"},
		} {
			r := e.callKey(e.op, "POST", path, map[string]any{"name": "Sales"}, keys...)
			problem(t, r, 400, account.EINVALID, "Idempotency-Key")
		}
		if a, _ := e.effects(org["id"].(string)); a != audits0 {
			t.Fatalf("malformed keys wrote %d audit events", a-audits0)
		}
		// The longest key, and one with escapes, are taken.
		e.must(201, e.op, "POST", path, map[string]any{"name": "Plain"})
		for i, k := range []string{strings.Repeat("k", 255), `"a \"quoted\" key \\ here"`} {
			if r := e.callKey(e.op, "POST", path, map[string]any{"name": "T" + string(rune('a'+i))}, k); r.Status != 201 {
				t.Errorf("key %q = %d\n%s", k, r.Status, r.Raw)
			}
		}
		// Unauthenticated is 401 before the key is read.
		problem(t, e.callKey("", "POST", path, map[string]any{"name": "X"}, ""), 401, account.EUNAUTHENTICATED)
	})
}

// TestIdempotentConcurrent: requests with one key that arrive together apply once;
// every other one is a replay of that answer or 409 while it runs.
func TestIdempotentConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		org := e.org("acme", "")
		orgID := org["id"].(string)
		audits0, _ := e.effects(orgID)
		const n = 8
		results := make([]resp, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				results[i] = e.callKey(e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"}, "together")
			})
		}
		close(start)
		wg.Wait()
		var fresh, replays, inFlight int
		var first string
		for _, r := range results {
			switch {
			case r.Status == 201 && r.Header.Get("Idempotent-Replayed") == "":
				fresh++
				first = r.Raw
			case r.Status == 201:
				replays++
			case r.Status == 409 && r.Body["type"] == "https://roster.dev/problems/idempotency-key-in-flight":
				inFlight++
			default:
				t.Errorf("unexpected answer %d %s", r.Status, r.Raw)
			}
		}
		if fresh != 1 {
			t.Fatalf("%d requests ran, want 1 (replays %d, in flight %d)", fresh, replays, inFlight)
		}
		for _, r := range results {
			if r.Status == 201 && r.Raw != first {
				t.Errorf("replay %s differs from %s", r.Raw, first)
			}
		}
		if a, _ := e.effects(orgID); a != audits0+1 {
			t.Fatalf("audit events %d → %d, want one more", audits0, a)
		}
		teams := e.must(200, e.op, "GET", "/api/v1/organizations/acme/teams", nil)
		if items := teams["items"].([]any); len(items) != 1 {
			t.Fatalf("%d teams, want 1", len(items))
		}
	})
}

// TestIdempotencyKeyOtherTenant: a key is its caller's. The administrator of globex
// who sends the key acme's administrator used runs a fresh request of its own: it
// neither gets acme's answer nor learns, by a 422 or 409, that the key exists.
func TestIdempotencyKeyOtherTenant(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"password": pw})
		e.member(e.op, "globex", "gus@globex.test", "admin", map[string]any{"password": pw})
		ada, gus := e.login("ada@acme.test", pw), e.login("gus@globex.test", pw)
		const key = "shared-key-0001"
		acme := e.callKey(ada, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Secret plans"}, key)
		if acme.Status != 201 {
			t.Fatalf("acme = %d %s", acme.Status, acme.Raw)
		}
		// Their own request with that key runs, as a first request.
		own := e.callKey(gus, "POST", "/api/v1/organizations/globex/teams", map[string]any{"name": "Plans"}, key)
		if own.Status != 201 || own.Header.Get("Idempotent-Replayed") != "" || own.Body["id"] == acme.Body["id"] {
			t.Fatalf("globex's own request = %d %s (replayed %q)", own.Status, own.Raw, own.Header.Get("Idempotent-Replayed"))
		}
		// Acme's request word for word, with another key of acme's, from globex's
		// administrator: acme is not theirs (404), and acme's answer does not leak.
		const key2 = "shared-key-0002"
		acme2 := e.callKey(ada, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Roadmap"}, key2)
		if acme2.Status != 201 {
			t.Fatalf("acme = %d %s", acme2.Status, acme2.Raw)
		}
		stolen := e.callKey(gus, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Roadmap"}, key2)
		problem(t, stolen, 404, account.ENOTFOUND)
		if strings.Contains(stolen.Raw, acme2.Body["id"].(string)) || stolen.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("globex got acme's answer: %s", stolen.Raw)
		}
		teams := e.must(200, e.op, "GET", "/api/v1/organizations/acme/teams", nil)
		if items := teams["items"].([]any); len(items) != 2 {
			t.Fatalf("acme has %d teams, want 2", len(items))
		}
		// And acme's administrator still gets acme's answer.
		if again := e.callKey(ada, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Secret plans"}, key); again.Raw != acme.Raw {
			t.Fatalf("acme's replay = %d %s", again.Status, again.Raw)
		}
		// Another session of the same account is the same caller.
		ada2 := e.login("ada@acme.test", pw)
		if again := e.callKey(ada2, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Secret plans"}, key); again.Raw != acme.Raw {
			t.Fatalf("acme's replay from another session = %d %s", again.Status, again.Raw)
		}
	})
}

// TestIdempotencyKeyExpiry: a key is kept 24 hours; after that the same key is a new
// one, and the periodic purge deletes it.
func TestIdempotencyKeyExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		org := e.org("acme", "")
		orgID := org["id"].(string)
		path := "/api/v1/organizations/acme/teams"
		first := e.callKey(e.op, "POST", path, map[string]any{"name": "Sales"}, "daily")
		if first.Status != 201 {
			t.Fatalf("first = %d %s", first.Status, first.Raw)
		}
		e.clock.Advance(23 * time.Hour)
		op := e.login(operatorEmail, pw) // the first session has expired
		if r := e.callKey(op, "POST", path, map[string]any{"name": "Sales"}, "daily"); r.Raw != first.Raw {
			t.Fatalf("after 23 h = %d %s, want the replay", r.Status, r.Raw)
		}
		e.clock.Advance(time.Hour + time.Second)
		audits, _ := e.effects(orgID)
		// Expired: the key is a new one, even for another body.
		if r := e.callKey(op, "POST", path, map[string]any{"name": "Support"}, "daily"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("after 24 h = %d %s", r.Status, r.Raw)
		}
		if a, _ := e.effects(orgID); a != audits+1 {
			t.Fatalf("the expired key's request did not run")
		}
		// The purge deletes what expired: two keys, one 25 hours old.
		e.callKey(op, "POST", path, map[string]any{"name": "Ops"}, "purged")
		e.clock.Advance(25 * time.Hour)
		e.login(operatorEmail, pw)
		n, err := e.svc.PurgeExpiredSessions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// Sessions: the operator's three logins but the last one; keys: "daily" and "purged".
		if n < 2 {
			t.Fatalf("purged %d", n)
		}
		if n2, err := e.svc.PurgeExpiredSessions(context.Background()); err != nil || n2 != 0 {
			t.Fatalf("second purge = %d, %v", n2, err)
		}
	})
}

// TestIdempotencyCrash: a reservation whose request never answered (the process
// died) blocks its key with 409 only for the lease; then a retry runs, unless a
// write of the first request was committed, when the retry learns that instead of
// applying it twice. A first request still running after its lease, whose key a
// retry took over, has its writes refused.
func TestIdempotencyCrash(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		me := e.must(200, e.op, "GET", "/api/v1/me", nil)
		caller := "account:" + me["account"].(map[string]any)["id"].(string)
		ctx := context.Background()
		path := "/api/v1/organizations/acme/teams"
		body := []byte(`{"name":"Sales"}`)
		reserve := func(key string) account.Reservation {
			t.Helper()
			fp := httpapi.Fingerprint("POST", path, "", "application/json", body)
			r, outcome, _, err := e.svc.ReserveIdempotency(ctx, account.IdempotentRequest{Caller: caller, Key: key, Fingerprint: fp})
			if err != nil || outcome != account.IdempotencyReserved {
				t.Fatalf("reserve = %v, %v", outcome, err)
			}
			return r
		}
		send := func(key string) resp {
			return e.callKey(e.op, "POST", path, json.RawMessage(body), key)
		}

		// Crashed before writing.
		crashed := reserve("before-write")
		problem(t, send("before-write"), 409, "idempotency-key-in-flight", "Idempotency-Key")
		e.clock.Advance(account.IdempotencyLease + time.Second)
		if r := send("before-write"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("retry after the lease = %d %s", r.Status, r.Raw)
		}
		// The first request, had it been only slow, can no longer write.
		err := e.db.Write(account.WithIdempotency(ctx, crashed), func(account.Tx) error { return nil })
		if !errors.Is(err, account.ErrReservationLost) {
			t.Fatalf("write under a lost reservation = %v", err)
		}

		// Crashed after a write committed, before its answer was kept.
		applied := reserve("after-write")
		if err := e.db.Write(account.WithIdempotency(ctx, applied), func(account.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		problem(t, send("after-write"), 409, "idempotency-key-in-flight", "Idempotency-Key")
		e.clock.Advance(account.IdempotencyLease + time.Second)
		problem(t, send("after-write"), 409, "idempotency-key-answer-lost", "Idempotency-Key")
	})
}

// TestIdempotentUpload: an upload retried with its key is the same request though
// its multipart boundary is new: one import is queued, and the retry gets its answer.
// Another file with the key is 422.
func TestIdempotentUpload(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		path := "/api/v1/organizations/acme/imports"
		file := upload{name: "people.csv", content: []byte("email,first_name,last_name,send_invite\nzoe@x.test,Zoe,Zed,no\n")}
		first := e.callKey(e.op, "POST", path, file, "upload-1")
		if first.Status != 202 {
			t.Fatalf("first = %d %s", first.Status, first.Raw)
		}
		again := e.callKey(e.op, "POST", path, file, "upload-1")
		if again.Raw != first.Raw || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry = %d %s, want the replay of %s", again.Status, again.Raw, first.Raw)
		}
		list := e.must(200, e.op, "GET", path, nil)
		if items := list["items"].([]any); len(items) != 1 {
			t.Fatalf("%d imports, want 1", len(items))
		}
		other := upload{name: "people.csv", content: []byte("email,first_name,last_name,send_invite\nyan@x.test,Yan,Y,no\n")}
		problem(t, e.callKey(e.op, "POST", path, other, "upload-1"), 422, "idempotency-key-reused", "Idempotency-Key")
	})
}

// failingHasher fails every hash while fail is set: an internal error, for a 500.
type failingHasher struct {
	account.PasswordHasher
	fail *atomic.Bool
}

func (h failingHasher) Hash(ctx context.Context, pw string) (string, error) {
	if h.fail.Load() {
		return "", errors.New("injected hasher failure")
	}
	return h.PasswordHasher.Hash(ctx, pw)
}

// process is another Roster process over db (the same database as e's): its own
// service and server, for requests sent with e's tokens.
func (e *env) process(db *sqlstore.DB, hasher account.PasswordHasher) *env {
	e.t.Helper()
	a, err := app.New(context.Background(), app.Options{
		Config: config.Config{BaseURL: "http://roster.test", SignUp: true, CheckCache: account.DefaultCheckCacheEntries},
		DB:     db, Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Now: e.clock.Now, Hasher: hasher, NoConsole: true,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	e.t.Cleanup(srv.Close)
	other := *e
	other.db, other.svc, other.api, other.srv = db, a.Service, a.API, srv
	return &other
}

// TestIdempotentServerError: a 5xx answer is not kept; the retry with the key runs
// afresh (and, here, succeeds) rather than replaying the failure.
func TestIdempotentServerError(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		org := e.org("acme", "")
		var fail atomic.Bool
		p := e.process(e.db, failingHasher{password.NewHasher(password.TestParams, 4, rand.Reader), &fail})
		body := map[string]any{"email": "ada@acme.test", "first_name": "Ada", "last_name": "L",
			"role": "member", "send_invite": false, "password": pw}
		path := "/api/v1/organizations/acme/members"
		audits0, _ := e.effects(org["id"].(string))
		fail.Store(true)
		problem(t, p.callKey(e.op, "POST", path, body, "retry-me"), 500, account.EINTERNAL)
		fail.Store(false)
		r := p.callKey(e.op, "POST", path, body, "retry-me")
		if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("retry after a 500 = %d %s", r.Status, r.Raw)
		}
		if a, _ := e.effects(org["id"].(string)); a != audits0+1 {
			t.Fatalf("audit events %d → %d, want one more", audits0, a)
		}
		// Now kept: the replay.
		if again := p.callKey(e.op, "POST", path, body, "retry-me"); again.Raw != r.Raw {
			t.Fatalf("replay = %d %s", again.Status, again.Raw)
		}
	})
}

// TestIdempotentTwoProcesses: keys live in the database, so two processes over one
// database see the same keys: requests with one key sent to both at once apply once,
// and either process replays the answer.
func TestIdempotentTwoProcesses(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			dbs := storetest.OpenShared(t, engine, 2)
			e := newEnv(t, dbs[0])
			p := e.process(dbs[1], password.NewHasher(password.TestParams, 4, rand.Reader))
			org := e.org("acme", "")
			audits0, _ := e.effects(org["id"].(string))
			const n = 8
			results := make([]resp, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				via := e
				if i%2 == 1 {
					via = p
				}
				wg.Go(func() {
					<-start
					results[i] = via.callKey(e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"}, "both")
				})
			}
			close(start)
			wg.Wait()
			fresh := 0
			for _, r := range results {
				switch {
				case r.Status == 201 && r.Header.Get("Idempotent-Replayed") == "":
					fresh++
				case r.Status == 201, r.Status == 409 && r.Body["type"] == "https://roster.dev/problems/idempotency-key-in-flight":
				default:
					t.Errorf("unexpected answer %d %s", r.Status, r.Raw)
				}
			}
			if fresh != 1 {
				t.Fatalf("%d requests ran, want 1", fresh)
			}
			if a, _ := e.effects(org["id"].(string)); a != audits0+1 {
				t.Fatalf("audit events %d → %d, want one more", audits0, a)
			}
			x := e.callKey(e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"}, "both")
			y := p.callKey(e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"}, "both")
			if x.Status != 201 || x.Raw != y.Raw {
				t.Fatalf("replays differ: %d %s / %d %s", x.Status, x.Raw, y.Status, y.Raw)
			}
		})
	}
}

// TestIdempotencyMetrics: an API key, shown once, is shown again to the retry of the
// request that issued it (and only one key exists); /metrics counts the outcomes.
func TestIdempotencyMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withMetrics(db, "scrape-secret"))
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		path := "/api/v1/applications/studio/keys"
		first := e.callKey(e.op, "POST", path, map[string]any{"name": "prod"}, "issue-key-1")
		again := e.callKey(e.op, "POST", path, map[string]any{"name": "prod"}, "issue-key-1")
		if first.Status != 201 || again.Raw != first.Raw || first.Body["key"] == nil {
			t.Fatalf("first %d %s, retry %d %s", first.Status, first.Raw, again.Status, again.Raw)
		}
		keys := e.must(200, e.op, "GET", path, nil)
		if items := keys["items"].([]any); len(items) != 1 {
			t.Fatalf("%d keys, want 1", len(items))
		}
		problem(t, e.callKey(e.op, "POST", path, map[string]any{"name": "staging"}, "issue-key-1"), 422, "idempotency-key-reused", "Idempotency-Key")
		req, _ := http.NewRequest("GET", e.srv.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer scrape-secret")
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		text, _ := io.ReadAll(res.Body)
		for outcome, want := range map[string]float64{"first": 1, "replay": 1, "reused": 1, "in_flight": 0, "answer_lost": 0} {
			if got := sample(t, string(text), `roster_idempotent_requests_total{outcome="`+outcome+`"}`); got != want {
				t.Errorf("%s = %v, want %v", outcome, got, want)
			}
		}
	})
}
