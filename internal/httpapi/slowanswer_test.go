package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestSlowAnswerKeepsItsRequest: an answer that takes longer than the time allowed
// to read the request's body is still given. The body's read deadline is lifted once
// the body is read; left in place, net/http's background read of the connection
// reaches it and cancels the request (a 499 "request cancelled" for a bulk
// invitation on a loaded PostgreSQL).
func TestSlowAnswerKeepsItsRequest(t *testing.T) {
	defer httpapi.SetBodyReadTimeout(50 * time.Millisecond)()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		opts := account.Options{Hasher: password.NewHasher(password.TestParams, 4, rand.Reader),
			Rand: rand.Reader, Renderer: mail.NewNoticeRenderer(), BaseURL: "http://roster.test"}
		setup := opts
		setup.Store = db
		if _, _, err := account.NewService(setup).Bootstrap(ctx, operatorEmail, pw); err != nil {
			t.Fatal(err)
		}
		gate := &gatedStore{DB: db, open: make(chan struct{})}
		a, err := app.New(ctx, app.Options{
			Config: config.Config{BaseURL: "http://roster.test", SignUp: true, CheckCache: account.DefaultCheckCacheEntries},
			DB:     db, ServiceStore: func(account.Store) account.Store { return gate }, Hasher: opts.Hasher, NoConsole: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler)
		defer srv.Close()
		// The store answers only well after the body's read deadline has passed.
		time.AfterFunc(400*time.Millisecond, func() { close(gate.open) })
		b, _ := json.Marshal(map[string]any{"email": operatorEmail, "password": pw})
		res, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("a login answered after its body's deadline: %d %s, want 200", res.StatusCode, raw)
		}
	})
}
