package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

const (
	orgPassword = opPass
	orgMailBase = "http://roster.test"
)

// orgEnv is Roster (API and console) over one database, for the organization
// screens: the operator's actor, and acme with an admin (ada) and a member (mel),
// and globex with its own admin (gus).
type orgEnv struct {
	t     *testing.T
	db    *sqlstore.DB
	svc   *account.Service
	srv   *httptest.Server
	clock *testtime.Clock
	ts    *testServer
	op    account.Actor
}

// orgEach runs fn on every engine with a fresh orgEnv.
func orgEach(t *testing.T, fn func(t *testing.T, e *orgEnv)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) { fn(t, newOrgEnv(t, db)) })
}

// newOrgEnv builds the stack; opts change the rate limits.
func newOrgEnv(t *testing.T, db *sqlstore.DB, opts ...func(*limits.Config)) *orgEnv {
	t.Helper()
	e := &orgEnv{t: t, db: db}
	e.srv = httptest.NewUnstartedServer(nil)
	ts := newTestServer(t, db, orgMailBase, serverOptions{limits: func(d *limits.Config) {
		for _, o := range opts {
			o(d)
		}
	}})
	e.srv.Config.Handler = ts.handler
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.ts, e.svc, e.clock, e.op = ts, ts.svc, ts.clock, ts.op
	ctx := context.Background()
	for _, slug := range []string{"acme", "globex"} {
		if _, err := e.svc.CreateOrganization(ctx, e.op, account.CreateOrganizationInput{
			Name: strings.ToUpper(slug[:1]) + slug[1:], Slug: slug, Kind: account.KindOrganization}); err != nil {
			t.Fatal(err)
		}
	}
	e.addMember(e.op, "acme", "ada@acme.test", account.RoleAdmin)
	e.addMember(e.op, "acme", "mel@acme.test", account.RoleMember)
	e.addMember(e.op, "globex", "gus@globex.test", account.RoleAdmin)
	return e
}

// actor logs email in to the service directly.
func (e *orgEnv) actor(email string) account.Actor { return e.ts.actor(e.t, email, orgPassword) }

// addMember adds an active member with the test password.
func (e *orgEnv) addMember(actor account.Actor, org, email, role string) account.Member {
	e.t.Helper()
	no := false
	m, err := e.svc.AddMember(context.Background(), actor, org, account.AddMemberInput{
		Email: email, FirstName: "F" + email[:3], LastName: "L" + email[:3], Role: role,
		SendInvite: &no, Password: orgPassword})
	if err != nil {
		e.t.Fatalf("add %s to %s: %v", email, org, err)
	}
	return m
}

// orgInvitationLinkRE finds the token of an invitation email's link.
var orgInvitationLinkRE = regexp.MustCompile(regexp.QuoteMeta(orgMailBase) + `/invitations/([A-Za-z0-9_-]+)`)

// invitationToken is the token of the newest invitation email to to.
func (e *orgEnv) invitationToken(to string) string {
	e.t.Helper()
	msgs, err := e.db.FindEmails(context.Background(), "", 500)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs { // newest first
		if m.To != to {
			continue
		}
		if match := orgInvitationLinkRE.FindStringSubmatch(m.Text); match != nil {
			return match[1]
		}
	}
	e.t.Fatalf("no invitation email to %s", to)
	return ""
}

// orgBrowser is a logged-in console session: cookies kept, redirects not followed.
type orgBrowser struct {
	t      *testing.T
	e      *orgEnv
	client *http.Client
}

// orgResp is a console answer.
type orgResp struct {
	Status   int
	Location string
	Body     string
}

// browser logs email in through the console's login form.
func (e *orgEnv) browser(email string) *orgBrowser {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	b := &orgBrowser{t: e.t, e: e, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	r := b.post("/login", url.Values{"email": {email}, "password": {orgPassword}})
	if r.Status != http.StatusSeeOther {
		e.t.Fatalf("console login of %s = %d, want 303\n%s", email, r.Status, r.Body)
	}
	return b
}

func (b *orgBrowser) do(method, path string, form url.Values) orgResp {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.e.srv.URL)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return orgResp{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(raw)}
}

func (b *orgBrowser) get(path string) orgResp { b.t.Helper(); return b.do(http.MethodGet, path, nil) }

func (b *orgBrowser) post(path string, form url.Values) orgResp {
	b.t.Helper()
	return b.do(http.MethodPost, path, form)
}

// page GETs path and fails the test unless it answers 200.
func (b *orgBrowser) page(path string) string {
	b.t.Helper()
	r := b.get(path)
	if r.Status != http.StatusOK {
		b.t.Fatalf("GET %s = %d, want 200\n%s", path, r.Status, r.Body)
	}
	return r.Body
}

// step POSTs a form that answers with a page (a wizard's next step), and fails
// the test unless it is 200.
func (b *orgBrowser) step(path string, form url.Values) string {
	b.t.Helper()
	r := b.post(path, form)
	if r.Status != http.StatusOK {
		b.t.Fatalf("POST %s = %d, want 200\n%s", path, r.Status, orgMain(r.Body))
	}
	return r.Body
}

// submit POSTs a form, expects a redirect to want, and returns the page it leads
// to (with the flash message).
func (b *orgBrowser) submit(path string, form url.Values, want string) string {
	b.t.Helper()
	r := b.post(path, form)
	if r.Status != http.StatusSeeOther {
		b.t.Fatalf("POST %s = %d, want 303\n%s", path, r.Status, r.Body)
	}
	if r.Location != want {
		b.t.Fatalf("POST %s redirects to %q, want %q", path, r.Location, want)
	}
	return b.page(r.Location)
}

// refused POSTs a form that must fail with status, and returns the page shown.
func (b *orgBrowser) refused(path string, form url.Values, status int) string {
	b.t.Helper()
	r := b.post(path, form)
	if r.Status != status {
		b.t.Fatalf("POST %s = %d, want %d\n%s", path, r.Status, status, r.Body)
	}
	return r.Body
}

// orgHas fails the test unless body holds every one of wants (as HTML-escaped text).
func orgHas(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q\n%s", w, orgMain(body))
		}
	}
}

// orgLacks fails the test if body holds any of unwanted.
func orgLacks(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("the page has %q\n%s", w, orgMain(body))
		}
	}
}

// orgMain is the main landmark of a page, for shorter failure messages.
func orgMain(body string) string {
	if i := strings.Index(body, `<main`); i >= 0 {
		body = body[i:]
	}
	if i := strings.Index(body, `</main>`); i >= 0 {
		body = body[:i]
	}
	return body
}
