package console_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestConsoleOutage runs the console on a PostgreSQL server of the test's own and
// stops it: a signed-in page answers a 503 HTML page that says to try again, with
// Retry-After, never a 500, and keeps the session; once the server is back the same
// browser sees its page again without logging in.
func TestConsoleOutage(t *testing.T) {
	pg := storetest.StartPostgres(t)
	ctx := context.Background()
	db, err := sqlstore.OpenWith(ctx, pg.URL, sqlstore.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := newOpEnv(t, db)
	b := e.login(opEmail, opPass)
	get := func() (*http.Response, string) {
		t.Helper()
		res, err := b.client.Get(e.srv.URL + "/operator")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}
	if res, body := get(); res.StatusCode != http.StatusOK {
		t.Fatalf("home before the outage: %d\n%s", res.StatusCode, body)
	}

	pg.StopImmediate()
	res, body := get()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("home with the database stopped: %d, want 503\n%s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want an HTML page", ct)
	}
	if ra := res.Header.Get("Retry-After"); ra == "" {
		t.Errorf("no Retry-After")
	}
	if !strings.Contains(body, "try again in a few seconds") {
		t.Errorf("the page does not say to try again:\n%s", body)
	}
	for _, c := range res.Cookies() {
		if c.Name != "" && c.MaxAge < 0 {
			t.Errorf("the outage cleared cookie %s", c.Name)
		}
	}

	pg.Start()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, body := get()
		if res.StatusCode == http.StatusOK {
			if strings.Contains(body, `action="/login"`) && !strings.Contains(body, "/logout") {
				t.Fatalf("signed out by the outage:\n%s", body)
			}
			break
		}
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("home while the database comes back: %d\n%s", res.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still 503 15s after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
