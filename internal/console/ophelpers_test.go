package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
)

// opEnv is the whole server (API with the console mounted) over one database, on a
// real port.
type opEnv struct {
	t   *testing.T
	db  *sqlstore.DB
	svc *account.Service
	srv *httptest.Server
	op  account.Actor // the operator, for setting up through the use cases
}

func newOpEnv(t *testing.T, db *sqlstore.DB) *opEnv {
	t.Helper()
	e := &opEnv{t: t, db: db}
	e.srv = httptest.NewUnstartedServer(nil)
	ts := newTestServer(t, db, "http://"+e.srv.Listener.Addr().String(), serverOptions{})
	e.srv.Config.Handler = ts.handler
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.svc, e.op = ts.svc, ts.op
	return e
}

// browser is one signed-in person's cookie jar; it never follows redirects, so
// that tests see them.
type browser struct {
	e      *opEnv
	client *http.Client
}

// page is an answer: status, Location, body.
type page struct {
	Status   int
	Location string
	Body     string
}

func (e *opEnv) login(email, pw string) *browser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res := b.post("/login", url.Values{"email": {email}, "password": {pw}})
	if res.Status != http.StatusSeeOther {
		e.t.Fatalf("log in as %s: %d\n%s", email, res.Status, res.Body)
	}
	return b
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(body)}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form as the browser would, from the console's own origin.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

// wantRedirect checks a form's success: a redirect to want (path and query), and
// returns the next page.
func (b *browser) wantRedirect(res page, want string) page {
	b.e.t.Helper()
	if res.Status != http.StatusSeeOther || res.Location != want {
		b.e.t.Fatalf("got %d to %q, want a redirect to %q\n%s", res.Status, res.Location, want, res.Body)
	}
	return b.get(want)
}

func wantStatus(t *testing.T, res page, status int) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d\n%s", res.Status, status, res.Body)
	}
}

func wantIn(t *testing.T, res page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(res.Body, s) {
			t.Errorf("the page lacks %q\n%s", s, res.Body)
		}
	}
}

func wantNotIn(t *testing.T, res page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(res.Body, s) {
			t.Errorf("the page shows %q", s)
		}
	}
}

// addPerson adds an active account with a password to an organization, as the
// operator, and returns its id.
func (e *opEnv) addPerson(org, email, role string) string {
	e.t.Helper()
	no := false
	m, err := e.svc.AddMember(context.Background(), e.op, org, account.AddMemberInput{Email: email, FirstName: "First",
		LastName: "Last", Role: role, SendInvite: &no, Password: opPass})
	if err != nil {
		e.t.Fatalf("add %s to %s: %v", email, org, err)
	}
	return m.AccountID
}

// between cuts the text of s after the first from and before the next to.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	out, _, _ := strings.Cut(rest, to)
	return out
}

func date(t time.Time) string { return t.UTC().Format("2006-01-02") }

func itoa(n int) string { return strconv.Itoa(n) }
