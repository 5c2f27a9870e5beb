package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/storetest"
)

// TestMain lets the test binary run as `roster` itself, so that tests can start real
// Roster processes without building the binary separately.
func TestMain(m *testing.M) {
	if os.Getenv("ROSTER_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startProcesses runs n `roster serve` child processes on env at once (they may
// share one store, which they migrate and bootstrap together) until the test ends;
// it returns their base URLs, their logs, and a function that stops them all (with
// SIGINT, and waits until they have exited) before the test ends.
func startProcesses(t *testing.T, n int, env map[string]string) ([]string, []*lockedBuffer, func()) {
	t.Helper()
	bases, logs, stops := make([]string, n), make([]*lockedBuffer, n), make([]func(), n)
	var wg sync.WaitGroup
	for i := range bases {
		wg.Add(1)
		go func() { defer wg.Done(); bases[i], logs[i], stops[i] = startProcess(t, env) }()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	stopAll := func() {
		var wg sync.WaitGroup
		for _, stop := range stops {
			wg.Go(stop)
		}
		wg.Wait()
	}
	return bases, logs, stopAll
}

// startProcess runs `roster serve` as a child process until the test ends, or until
// the stop it returns is called: that sends SIGINT and waits until it has exited.
func startProcess(t *testing.T, env map[string]string) (string, *lockedBuffer, func()) {
	t.Helper()
	base, cmd, logs := spawn(t, env)
	var once sync.Once
	stop := func() { once.Do(func() { stopProcess(t, cmd, logs) }) }
	t.Cleanup(stop)
	return base, logs, stop
}

// stopProcess sends cmd SIGINT and waits for it to exit, failing the test if it
// exits with an error or not within 30 seconds (then it is killed).
func stopProcess(t *testing.T, cmd *exec.Cmd, logs *lockedBuffer) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("roster serve exited with %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Errorf("roster serve did not stop on SIGINT within 30s")
	}
}

// spawn starts `roster serve` as a child process and waits for /healthz; stopping
// it is the caller's business.
func spawn(t *testing.T, env map[string]string, args ...string) (string, *exec.Cmd, *lockedBuffer) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = append(os.Environ(), "ROSTER_TEST_RUN_MAIN=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, cmd, logs
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no /healthz from %s within 60s\n%s", base, logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// client calls one Roster server as one token.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) do(method, path string, body any) (int, map[string]any) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (c client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	status, out := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s = %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

// TestTwoProcesses starts two Roster processes on one PostgreSQL database at once
// (they migrate and bootstrap it together), races 64 clients through both for the
// seats of a 100-seat subscription, and checks that a change made through one is
// what the other's entitlement check answers at once.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("two Roster processes under load for seconds: skipped by -short (go test ./... runs it)")
	}
	if os.Getenv(storetest.PostgresURLEnv) == "" {
		t.Skipf("set %s to run Roster processes on PostgreSQL", storetest.PostgresURLEnv)
	}
	env := map[string]string{"ROSTER_DATABASE_URL": storetest.PostgresURL(t),
		"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"}
	bases, _, _ := startProcesses(t, 2, env)
	var wg sync.WaitGroup
	login := client{t: t, base: bases[0]}.must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "op@roster.test", "password": "correct horse battery"})
	a := client{t: t, base: bases[0], token: login["token"].(string)}
	b := client{t: t, base: bases[1], token: login["token"].(string)} // sessions are shared

	a.must(201, "POST", "/api/v1/organizations", map[string]any{"name": "Acme", "kind": "organization"})
	b.must(201, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
	start := time.Now().Add(-time.Hour).UTC()
	sub := a.must(201, "POST", "/api/v1/organizations/acme/subscriptions", map[string]any{
		"application": "studio", "seats": 100, "starts_at": start, "ends_at": start.Add(24 * time.Hour)})
	var ids []string
	for i := range 160 {
		c := []client{a, b}[i%2]
		m := c.must(201, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": fmt.Sprintf("m%03d@acme.test", i),
			"first_name": "M", "last_name": "M", "send_invite": false, "password": "correct horse battery"})
		ids = append(ids, m["account"].(map[string]any)["id"].(string))
	}
	seats := "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string) + "/seats/"
	var mu sync.Mutex
	won, lost := 0, 0
	next := make(chan int)
	go func() {
		for i := range ids {
			next <- i
		}
		close(next)
	}()
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := []client{a, b}[w%2]
			for i := range next {
				status, body := c.do("PUT", seats+ids[i], nil)
				mu.Lock()
				switch {
				case status == 200:
					won++
				case status == 409 && body["type"] == "https://roster.dev/problems/quota-exceeded":
					lost++
				default:
					t.Errorf("seat %d = %d %v", i, status, body)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got := b.must(200, "GET", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string), nil)
	if won != 100 || lost != 60 || got["assigned"] != 100.0 {
		t.Errorf("won %d, lost %d, assigned %v: want 100 seats exactly", won, lost, got["assigned"])
	}

	// A change through one process is the other's answer at once.
	key := a.must(201, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "e2e"})["key"].(string)
	appA, appB := client{t: t, base: bases[0], token: key}, client{t: t, base: bases[1], token: key}
	holder := ""
	for _, id := range ids {
		if _, body := appA.do("GET", "/api/v1/check?organization=acme&account="+id, nil); body["allowed"] == true {
			holder = id
			break
		}
	}
	if holder == "" {
		t.Fatal("no seat holder found")
	}
	for round := range 5 {
		a.must(200, "POST", "/api/v1/organizations/acme/members/"+holder+"/deactivate", nil)
		if _, body := appB.do("GET", "/api/v1/check?organization=acme&account="+holder, nil); body["reason"] != "deactivated" {
			t.Fatalf("round %d: B answers %v right after A deactivated", round, body)
		}
		b.must(200, "POST", "/api/v1/organizations/acme/members/"+holder+"/reactivate", nil)
		if _, body := appA.do("GET", "/api/v1/check?organization=acme&account="+holder, nil); body["reason"] != "ok" {
			t.Fatalf("round %d: A answers %v right after B reactivated", round, body)
		}
	}
}

// TestTwoProcessesMixedLoad drives a mixed load through two Roster processes on one
// PostgreSQL database, with one SMTP server catching their mail: invitations sent
// through both, seats raced on a small quota, members deactivated and reactivated
// with each process's entitlement check asked right after every change, member
// lists read. No seat may be oversold (in the store or through the API), every
// email must arrive exactly once, every change must be what both processes answer
// at once, and no request may fail with a 5xx or hang.
func TestTwoProcessesMixedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("two Roster processes under 12 s of mixed load: skipped by -short (go test ./... runs it)")
	}
	if os.Getenv(storetest.PostgresURLEnv) == "" {
		t.Skipf("set %s to run Roster processes on PostgreSQL", storetest.PostgresURLEnv)
	}
	smtpSrv := smtptest.Start(t)
	dbURL := storetest.PostgresURL(t)
	const pw = "correct horse battery"
	bases, logs, stopAll := startProcesses(t, 2, map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_SMTP_URL": smtpSrv.URL(),
		"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": pw})
	token := client{t: t, base: bases[0]}.must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "op@roster.test", "password": pw})["token"].(string)
	ops := []client{{t: t, base: bases[0], token: token}, {t: t, base: bases[1], token: token}}
	ops[0].must(201, "POST", "/api/v1/organizations", map[string]any{"name": "Acme", "kind": "organization"})
	ops[1].must(201, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
	key := ops[0].must(201, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "e2e"})["key"].(string)
	apps := []client{{t: t, base: bases[0], token: key}, {t: t, base: bases[1], token: key}}
	const quota = 10 // two flippers hold a seat each; 22 racers vie for the other 8
	starts := time.Now().Add(-time.Hour).UTC()
	subID := ops[1].must(201, "POST", "/api/v1/organizations/acme/subscriptions", map[string]any{
		"application": "studio", "seats": quota, "starts_at": starts, "ends_at": starts.Add(24 * time.Hour)})["id"].(string)
	sub := "/api/v1/organizations/acme/subscriptions/" + subID
	var ids []string
	for i := range 24 {
		m := ops[i%2].must(201, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": fmt.Sprintf("m%02d@acme.test", i),
			"first_name": "M", "last_name": "M", "send_invite": false, "password": pw})
		ids = append(ids, m["account"].(map[string]any)["id"].(string))
	}
	// Two members flip between active and deactivated with a seat each; the others
	// race for the remaining quota.
	flippers, racers := ids[:2], ids[2:]
	for _, id := range flippers {
		ops[0].must(200, "PUT", sub+"/seats/"+id, nil)
	}

	var (
		mu        sync.Mutex
		failures  []string
		requests  atomic.Int64
		invited   []string
		oversold  atomic.Int64
		wg        sync.WaitGroup
		deadline  = time.Now().Add(12 * time.Second)
		remaining = func() bool { return time.Now().Before(deadline) && !t.Failed() }
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// call sends one request and records any 5xx, transport error or status not in ok.
	call := func(c client, method, path string, body any, ok ...int) (int, map[string]any) {
		status, out := c.do(method, path, body)
		requests.Add(1)
		if !slices.Contains(ok, status) {
			fail("%s %s%s = %d %v", method, c.base, path, status, out)
		}
		return status, out
	}
	// Invitations, through both processes.
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; remaining() && i < 40; i++ {
				email := fmt.Sprintf("inv-%d-%02d@acme.test", p, i)
				_, out := call(ops[p], "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{email}, "role": "member"}, 200)
				if rs, _ := out["results"].([]any); len(rs) == 1 && rs[0].(map[string]any)["invitation"] != nil {
					mu.Lock()
					invited = append(invited, email)
					mu.Unlock()
				} else {
					fail("invite %s: %v", email, out)
				}
			}
		}()
	}
	// Seat races on both processes; the subscription read back through either never
	// shows more seats than its quota.
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for remaining() {
				c := ops[rng.IntN(2)]
				id := racers[rng.IntN(len(racers))]
				if rng.IntN(2) == 0 {
					status, out := call(c, "PUT", sub+"/seats/"+id, nil, 200, 409)
					if status == 409 && out["type"] != "https://roster.dev/problems/quota-exceeded" {
						fail("assign %s: %v", id, out)
					}
				} else {
					call(c, "DELETE", sub+"/seats/"+id, nil, 204, 404)
				}
				if _, out := call(ops[rng.IntN(2)], "GET", sub, nil, 200); out["assigned"].(float64) > quota {
					oversold.Add(1)
				}
			}
		}()
	}
	// Deactivate and reactivate through one process; both checks answer the change.
	rounds := atomic.Int64{}
	for f, id := range flippers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; remaining(); r++ {
				for _, step := range []struct{ action, reason string }{{"deactivate", "deactivated"}, {"reactivate", "ok"}} {
					call(ops[(r+f)%2], "POST", "/api/v1/organizations/acme/members/"+id+"/"+step.action, nil, 200)
					for p := range 2 {
						if _, out := call(apps[p], "GET", "/api/v1/check?organization=acme&account="+id, nil, 200); out["reason"] != step.reason {
							fail("process %d answers %v right after %s", p, out, step.action)
						}
					}
				}
				rounds.Add(1)
			}
		}()
	}
	// Member lists on both.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; remaining(); i++ {
			call(ops[i%2], "GET", "/api/v1/organizations/acme/members?limit=20&application=studio", nil, 200)
		}
	}()
	wg.Wait()
	for _, f := range failures[:min(len(failures), 20)] {
		t.Error(f)
	}
	if oversold.Load() > 0 {
		t.Errorf("the API showed more seats assigned than the quota %d times", oversold.Load())
	}
	if rounds.Load() < 4 || len(invited) < 20 {
		t.Errorf("too little load: %d deactivation rounds, %d invitations", rounds.Load(), len(invited))
	}
	t.Logf("%d requests; %d invitations; %d deactivation rounds", requests.Load(), len(invited), rounds.Load())

	// The store: seats within the quota and counted right.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seats, assigned, held int
	if err := db.QueryRow(`SELECT seats, assigned, (SELECT COUNT(*) FROM seats WHERE subscription_id = $1) FROM subscriptions WHERE id = $1`, subID).
		Scan(&seats, &assigned, &held); err != nil {
		t.Fatal(err)
	}
	if assigned > seats || held != assigned {
		t.Errorf("subscription: %d seats, assigned %d, %d held", seats, assigned, held)
	}

	// Every email committed is delivered exactly once, whichever process sent it.
	var committed int
	wait := time.Now().Add(30 * time.Second)
	for {
		if err := db.QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&committed); err != nil {
			t.Fatal(err)
		}
		var pending int
		db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state <> 'sent'`).Scan(&pending)
		if pending == 0 && len(smtpSrv.Received()) >= committed {
			break
		}
		if time.Now().After(wait) {
			t.Fatalf("after 30s: %d of %d emails unsent, %d received", pending, committed, len(smtpSrv.Received()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Both processes stop: each worker finishes the message in flight, so a duplicate
	// being sent now would have arrived once they have exited.
	stopAll()
	seen := map[string]int{}
	to := map[string]int{}
	for _, m := range smtpSrv.Received() {
		seen[m.Header.Get("Message-Id")]++
		to[strings.ToLower(m.To[0])]++
	}
	if got := len(smtpSrv.Received()); got != committed || len(seen) != committed {
		t.Errorf("%d emails committed, %d received with %d distinct Message-IDs", committed, got, len(seen))
	}
	t.Logf("%d emails committed", committed)
	for id, n := range seen {
		if id == "" || n != 1 {
			t.Errorf("Message-ID %s delivered %d times", id, n)
		}
	}
	for _, email := range invited {
		if to[email] != 1 {
			t.Errorf("%s received %d invitations, want 1", email, to[email])
		}
	}
	for i, l := range logs {
		if strings.Contains(l.String(), "level=ERROR") {
			t.Errorf("process %d logged errors:\n%s", i, grepLines(l.String(), "level=ERROR"))
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out[:min(len(out), 10)], "\n")
}
