package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/storetest"
)

// lockedBuffer is an io.Writer the server and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// databases lists the stores to run the end-to-end tests on: a fresh SQLite file,
// and a fresh PostgreSQL database when ROSTER_TEST_POSTGRES_URL is set.
func databases(t *testing.T) map[string]string {
	dbs := map[string]string{"sqlite": "sqlite://" + filepath.Join(t.TempDir(), "roster.db")}
	if os.Getenv(storetest.PostgresURLEnv) != "" {
		dbs["postgres"] = storetest.PostgresURL(t)
	}
	return dbs
}

// start runs `roster serve` in the background until the test ends, and waits for /healthz.
func start(t *testing.T, env map[string]string, args ...string) (base string, stdout, stderr *lockedBuffer) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr}, args...), func(k string) string { return env[k] }, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v\n%s", err, stderr)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop within 30s")
		}
	})
	base = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, stdout, stderr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /healthz within 30s\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func postJSON(t *testing.T, url, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestServeBootstrap starts the real binary's run with the bootstrap environment,
// logs in as the operator, and shuts down gracefully.
func TestServeBootstrap(t *testing.T) {
	for engine, dbURL := range databases(t) {
		t.Run(engine, func(t *testing.T) {
			env := map[string]string{"ROSTER_DATABASE_URL": dbURL,
				"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"}
			base, _, stderr := start(t, env)
			status, body := postJSON(t, base+"/api/v1/auth/login", "", map[string]any{"email": "op@roster.test", "password": "correct horse battery"})
			if status != 200 || body["account"].(map[string]any)["operator"] != true {
				t.Fatalf("login = %d %v", status, body)
			}
			status, body = postJSON(t, base+"/api/v1/organizations", body["token"].(string), map[string]any{"name": "Acme", "kind": "organization"})
			if status != 201 || body["slug"] != "acme" {
				t.Fatalf("create organization = %d %v", status, body)
			}
			if !strings.Contains(stderr.String(), "created the first operator") {
				t.Errorf("log lacks the bootstrap line:\n%s", stderr)
			}
			if strings.Contains(stderr.String(), "correct horse") {
				t.Errorf("the bootstrap password is in the log")
			}
		})
	}
}

// TestServeSetupLink: with no bootstrap environment, serve prints a one-time link
// whose page creates the first operator; the link then is dead.
func TestServeSetupLink(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	base, stdout, _ := start(t, map[string]string{"ROSTER_DATABASE_URL": dbURL})
	link := regexp.MustCompile(`http://\S+/setup/setup_\S+`).FindString(stdout.String())
	if link == "" {
		t.Fatalf("no setup link printed:\n%s", stdout)
	}
	res, err := http.Get(link)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET setup page: %v %v", res, err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	// The form posts to the link's own path; a path that is no setup token is 404.
	if want := `action="` + strings.TrimPrefix(link, base) + `"`; !strings.Contains(string(page), want) {
		t.Errorf("the setup page lacks %s", want)
	}
	for _, bad := range []string{"..%2Fo%2Facme%2Fdelete", strings.TrimPrefix(link, base+"/setup/") + "A", "setup_short"} {
		if res, err := http.Get(base + "/setup/" + bad); err != nil || res.StatusCode != 404 {
			t.Errorf("GET /setup/%s = %v %v, want 404", bad, res, err)
		} else {
			res.Body.Close()
		}
	}
	// The page has the console's look; a well-formed link never issued opens no form.
	if !strings.Contains(string(page), ":focus-visible{outline:3px solid") || !strings.Contains(string(page), `class="card"`) {
		t.Error("the setup page is not styled as the console")
	}
	tok := strings.TrimPrefix(link, base+"/setup/")
	// Another token of the same form: its first character after the prefix changed (the
	// last one of unpadded base64 holds fewer bits, so only some values of it are the
	// encoding of any token).
	rest := strings.TrimPrefix(tok, "setup_")
	other := "setup_" + map[bool]string{true: "B", false: "A"}[strings.HasPrefix(rest, "A")] + rest[1:]
	wantGone := func(u, why string) {
		t.Helper()
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 || !strings.Contains(string(b), "This setup link is used or unknown") ||
			!strings.Contains(string(b), why) || strings.Contains(string(b), "<form") {
			t.Errorf("GET %s = %d, want the used-or-unknown page saying %q, without a form:\n%s", u, res.StatusCode, why, b)
		}
	}
	wantGone(base+"/setup/"+other, "was never issued")
	form := url.Values{"email": {"boss@roster.test"}, "first_name": {"Bo"}, "password": {"correct horse battery"}}
	res, err = http.PostForm(link, form)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("POST setup page: %v %v", res, err)
	}
	res.Body.Close()
	status, _ := postJSON(t, base+"/api/v1/auth/login", "", map[string]any{"email": "boss@roster.test", "password": "correct horse battery"})
	if status != 200 {
		t.Fatalf("login as the new operator = %d", status)
	}
	wantGone(link, "Roster is set up already")
	token := strings.TrimPrefix(link, base+"/setup/")
	status, body := postJSON(t, base+"/api/v1/setup", "", map[string]any{"token": token, "email": "again@roster.test", "password": "correct horse battery"})
	if status != 400 || body["type"] != "https://roster.dev/problems/invalid-token" {
		t.Errorf("reusing the setup token = %d %v", status, body)
	}
	// A cross-origin form post is refused.
	req, _ := http.NewRequest("POST", link, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 403 {
		t.Errorf("cross-origin setup post = %v %v, want 403", res, err)
	}
}

func TestCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "roster ") {
		t.Errorf("version = %q, %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &out, &errb); err == nil {
		t.Error("an unknown command succeeded")
	}
	if err := run(context.Background(), []string{"serve", "--addr", "nope"}, func(string) string { return "" }, &out, &errb); err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("serve --addr nope = %v", err)
	}
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "--database", dbURL}, func(string) string { return "" }, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "00001") || !strings.Contains(out.String(), "applied") {
		t.Errorf("migrate printed %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "-status"}, func(k string) string {
		return map[string]string{"ROSTER_DATABASE_URL": dbURL}[k]
	}, &out, &errb); err != nil || !strings.Contains(out.String(), "applied") {
		t.Errorf("migrate -status = %q, %v", out.String(), err)
	}
}

// Every command's -h succeeds (flag.ErrHelp, which main turns into exit 0) and prints
// that command's own flags to stdout.
func TestCommandHelp(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"serve", "-h"}, "-signup", ""},
		{[]string{"migrate", "-h"}, "-status", ""},
		{[]string{"outbox", "list", "-h"}, "-state", "-all"},
		{[]string{"outbox", "retry", "-h"}, "-all", "-state"},
		{[]string{"outbox", "--help"}, "outbox retry -all", ""},
		{[]string{"import", "-h"}, "-org", ""},
		{[]string{"backup", "-h"}, "-out", ""},
		{[]string{"restore", "--help"}, "-force", ""},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), tc.args, func(string) string { return "" }, &out, &errb)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q = %v, want flag.ErrHelp", tc.args, err)
		}
		if !strings.Contains(out.String(), tc.want) || (tc.not != "" && strings.Contains(out.String(), tc.not)) || errb.Len() > 0 {
			t.Errorf("%q printed %q to stdout (want %s, not %q) and %q to stderr", tc.args, out.String(), tc.want, tc.not, errb.String())
		}
	}
}

// With JSON logs the setup banner is a JSON record, on stdout as in the log.
func TestServeSetupBannerJSON(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	_, stdout, _ := start(t, map[string]string{"ROSTER_DATABASE_URL": dbURL}, "--log-format", "json")
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &rec); err != nil {
		t.Fatalf("stdout is not one JSON record: %v\n%s", err, stdout)
	}
	if link, _ := rec["setup_url"].(string); !strings.Contains(link, "/setup/setup_") || rec["level"] != "WARN" {
		t.Errorf("banner record = %v", rec)
	}
}

// A port in use fails serve before anything is created: no setup link is printed,
// and the store holds no setup token that a later start would have to replace.
func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"serve", "--addr", ln.Addr().String(), "--database", dbURL}, func(string) string { return "" }, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("serve on a port in use = %v", err)
	}
	if strings.Contains(out.String(), "/setup/") || strings.Contains(errb.String(), "setup_url") {
		t.Errorf("a setup link was printed:\n%s\n%s", out.String(), errb.String())
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, func(string) string { return "" }, &out, &errb); err != nil {
		t.Fatal(err)
	}
	// A test binary has no module version; it says so, and which Go built it.
	if got := out.String(); !strings.HasPrefix(got, "roster ") || !strings.Contains(got, "built with "+runtime.Version()) {
		t.Errorf("--version printed %q", got)
	}
}
