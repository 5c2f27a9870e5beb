package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

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

// startProcess runs `roster serve` as a child process until the test ends.
func startProcess(t *testing.T, env map[string]string) string {
	t.Helper()
	base, cmd, logs := spawn(t, env)
	t.Cleanup(func() {
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
	})
	return base
}

// spawn starts `roster serve` as a child process and waits for /healthz; stopping
// it is the caller's business.
func spawn(t *testing.T, env map[string]string) (string, *exec.Cmd, *lockedBuffer) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--addr", addr)
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
	if os.Getenv(storetest.PostgresURLEnv) == "" {
		t.Skipf("set %s to run Roster processes on PostgreSQL", storetest.PostgresURLEnv)
	}
	env := map[string]string{"ROSTER_DATABASE_URL": storetest.PostgresURL(t),
		"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"}
	bases := make([]string, 2)
	var wg sync.WaitGroup
	for i := range bases {
		wg.Add(1)
		go func() { defer wg.Done(); bases[i] = startProcess(t, env) }()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
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
