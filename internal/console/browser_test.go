package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/importer"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/testtime"
)

// pass is the password of the people the browser tests log in as.
const pass = "a good password"

// stack is a whole Roster server (API, console, outbox worker delivering to an
// in-process SMTP server, import runner) on a real TCP port.
type stack struct {
	*testServer
	t    *testing.T
	url  string
	smtp *smtptest.Server
}

func newStack(t *testing.T, db *sqlstore.DB) *stack {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	s := &stack{t: t, url: "http://" + srv.Listener.Addr().String(), smtp: smtptest.Start(t)}
	var runner *importer.Runner
	wake := func() { runner.Wake() }
	s.testServer = newTestServer(t, db, s.url, serverOptions{onImport: wake})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sender, err := mail.NewSMTPSender(s.smtp.URL(), "Roster <roster@roster.test>")
	if err != nil {
		t.Fatal(err)
	}
	worker := &outbox.Worker{Store: db, Sender: sender, From: "Roster <roster@roster.test>", Log: log,
		PollEvery: 100 * time.Millisecond, Now: s.clock.Now}
	db.OnEmail(worker.Wake)
	runner = &importer.Runner{Service: s.svc, Log: log, PollEvery: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); worker.Run(ctx) }()
	go func() { defer wg.Done(); runner.Run(ctx) }()
	srv.Config.Handler = s.handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		wg.Wait()
	})
	return s
}

// actor logs in through the service, for seeding the world without a browser.
func (s *stack) actor(email, password string) account.Actor {
	s.t.Helper()
	return s.testServer.actor(s.t, email, password)
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// mailTo waits for the newest email to addr whose subject contains subject, and
// returns its text part.
func (s *stack) mailTo(addr, subject string) string {
	s.t.Helper()
	var text string
	testtime.WaitFor(s.t, 15*time.Second, fmt.Sprintf("an email to %s about %q", addr, subject), func() bool {
		got := s.smtp.Received()
		for i := len(got) - 1; i >= 0; i-- {
			if len(got[i].To) > 0 && strings.EqualFold(got[i].To[0], addr) && strings.Contains(got[i].Header.Get("Subject"), subject) {
				text = got[i].Text
				return true
			}
		}
		return false
	})
	return text
}

// link picks the first link under base out of an email's text.
func (s *stack) link(text, prefix string) string {
	s.t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(s.url+prefix) + `[A-Za-z0-9_\-]+`).FindString(text)
	if m == "" {
		s.t.Fatalf("no %s link in:\n%s", prefix, text)
	}
	return strings.TrimPrefix(m, s.url)
}

// chromium finds the browser; without one the browser tests skip, unless
// ROSTER_REQUIRE_BROWSER is set (CI sets it, after installing Chromium). Under
// -short they skip: each flow takes 10–30 s.
func chromium(t *testing.T) string {
	if testing.Short() {
		t.Skip("browser tests skipped by -short (go test ./... runs them)")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ROSTER_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium found, and ROSTER_REQUIRE_BROWSER is set")
	}
	t.Skip("browser tests skipped: install Chromium (apt-get install chromium) to run them")
	return ""
}

// tab is one headless Chromium tab on a stack.
type tab struct {
	t     *testing.T
	s     *stack
	ctx   context.Context
	width int
	shots string // where screenshots go; "" for none
	dl    string // the download folder
}

func (s *stack) browser(shots string) *tab {
	t := s.t
	t.Helper()
	// Chromium's helper processes may still write to their profile for a moment
	// after the browser is gone, so the profile is not a t.TempDir (whose removal
	// would then fail the test): it is removed here, as well as it can be.
	profile, err := os.MkdirTemp("", "roster-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	b := &tab{t: t, s: s, ctx: ctx, width: 1280, shots: shots, dl: t.TempDir()}
	// The first Run starts the browser, which lives as long as its context: no
	// timeout on this one.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	b.run(cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(b.dl).WithEventsEnabled(true))
	return b
}

func (b *tab) run(actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc, html string
		_ = chromedp.Run(b.ctx, chromedp.Location(&loc), chromedp.OuterHTML("main", &html, chromedp.ByQuery))
		b.t.Fatalf("browser: %v\nat %s\n%s", err, loc, truncate(html, 3000))
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// open loads a path of the console and waits for its main landmark.
func (b *tab) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.s.url+path), chromedp.WaitReady("main", chromedp.ByQuery))
}

// settled waits until htmx has finished its requests and swaps. A swap's new
// content takes its handlers and the boost's scroll to the top only when it
// settles, some 20 ms after it shows: a click in that window lands on the
// element's old place, or on an element htmx has not yet taken over.
func settled() chromedp.Action {
	return chromedp.Poll(`document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added") === null`,
		nil, chromedp.WithPollingInterval(10*time.Millisecond))
}

func (b *tab) fill(sel, value string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(sel, chromedp.ByQuery), settled(), chromedp.SetValue(sel, value, chromedp.ByQuery))
}

func (b *tab) click(sel string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(sel, chromedp.ByQuery), settled(), chromedp.Click(sel, chromedp.ByQuery))
}

// choose picks an option of a select as a person would: the change event fires
// (an inline select submits its form on it).
func (b *tab) choose(sel, value string) {
	b.t.Helper()
	var ok bool
	b.run(chromedp.WaitVisible(sel, chromedp.ByQuery), settled(), chromedp.Evaluate(fmt.Sprintf(
		`(function(){var e=document.querySelector(%q); e.value=%q; e.dispatchEvent(new Event("change",{bubbles:true})); return e.value===%q})()`,
		sel, value, value), &ok))
	if !ok {
		b.t.Fatalf("%s has no option %q", sel, value)
	}
}

// see waits until the element sel holds text (case-sensitive).
func (b *tab) see(sel, text string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		err := chromedp.Run(ctx, chromedp.Text(sel, &got, chromedp.ByQuery, chromedp.AtLeast(0)))
		cancel()
		if err == nil && strings.Contains(got, text) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	var loc string
	_ = chromedp.Run(b.ctx, chromedp.Location(&loc))
	b.t.Fatalf("%q never showed %q at %s; it shows:\n%s", sel, text, loc, truncate(got, 2000))
}

// notSee checks that the element sel, as it is now, does not hold text.
func (b *tab) notSee(sel, text string) {
	b.t.Helper()
	var got string
	b.run(settled(), chromedp.Text(sel, &got, chromedp.ByQuery))
	if strings.Contains(got, text) {
		b.t.Fatalf("%s shows %q:\n%s", sel, text, truncate(got, 2000))
	}
}

// absent checks that no element matches sel.
func (b *tab) absent(sel string) {
	b.t.Helper()
	var n int
	b.run(chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n))
	if n != 0 {
		b.t.Fatalf("%d elements match %s; want none", n, sel)
	}
}

func (b *tab) count(sel string) int {
	b.t.Helper()
	var n int
	b.run(chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n))
	return n
}

func (b *tab) location() string {
	var loc string
	b.run(chromedp.Location(&loc))
	return strings.TrimPrefix(loc, b.s.url)
}

// login fills the login form.
func (b *tab) login(email, password string) {
	b.t.Helper()
	b.open("/login")
	b.fill("#f-email", email)
	b.fill("#f-password", password)
	b.click("main form button[type=submit]")
	b.run(chromedp.WaitNotPresent("#f-password", chromedp.ByQuery))
}

func (b *tab) logout() {
	b.t.Helper()
	b.click("header form[action='/logout'] button")
	b.run(chromedp.WaitVisible("#f-email", chromedp.ByQuery))
}

// shot saves a full-page screenshot at the tab's width as <name>-<width>.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	var png []byte
	b.run(chromedp.Sleep(150*time.Millisecond), chromedp.FullScreenshot(&png, 100))
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%s-%d.png", name, b.width)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// value is the current value of the input sel.
func (b *tab) value(sel string) string {
	b.t.Helper()
	var v string
	b.run(chromedp.WaitVisible(sel, chromedp.ByQuery), settled(), chromedp.Value(sel, &v, chromedp.ByQuery))
	return v
}

// fitsWidth fails the test when the page is wider than the viewport: nothing of
// it is out of reach sideways.
func (b *tab) fitsWidth() {
	b.t.Helper()
	var over float64
	b.run(settled(), chromedp.Evaluate(`document.documentElement.scrollWidth - window.innerWidth`, &over))
	if over > 0 {
		b.t.Errorf("at %d px the page is %.0f px wider than the screen", b.width, over)
	}
}

// resize switches between the desktop (1280) and the phone (390) layout.
func (b *tab) resize(width int) {
	b.t.Helper()
	h := int64(900)
	if width < 500 {
		h = 844
	}
	b.width = width
	b.run(chromedp.EmulateViewport(int64(width), h))
}

// download waits for a file the page downloaded and returns its bytes.
func (b *tab) download(before map[string]bool) []byte {
	b.t.Helper()
	var data []byte
	testtime.WaitFor(b.t, 10*time.Second, "a download arrived", func() bool {
		entries, _ := os.ReadDir(b.dl)
		for _, e := range entries {
			if !before[e.Name()] && !strings.HasSuffix(e.Name(), ".crdownload") {
				d, err := os.ReadFile(filepath.Join(b.dl, e.Name()))
				if err == nil && len(d) > 0 {
					data = d
					return true
				}
			}
		}
		return false
	})
	return data
}

func (b *tab) downloads() map[string]bool {
	seen := map[string]bool{}
	entries, _ := os.ReadDir(b.dl)
	for _, e := range entries {
		seen[e.Name()] = true
	}
	return seen
}
