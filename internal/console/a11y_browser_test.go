package console_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// axeSource is axe-core, the accessibility engine, as .ci/node pins it (npm ci
// --prefix .ci/node installs it; ROSTER_AXE names another copy). Without it the
// accessibility test skips, unless ROSTER_REQUIRE_BROWSER is set (CI).
func axeSource(t *testing.T) string {
	path := os.Getenv("ROSTER_AXE")
	if path == "" {
		_, file, _, _ := runtime.Caller(0)
		path = filepath.Join(filepath.Dir(file), "..", "..", ".ci", "node", "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("ROSTER_REQUIRE_BROWSER") != "" {
			t.Fatalf("axe-core not found (%v): npm ci --prefix .ci/node installs it", err)
		}
		t.Skipf("accessibility test skipped: %v (npm ci --prefix .ci/node installs axe-core)", err)
	}
	return string(src)
}

// accessible checks the page as it is now with axe-core, when src holds it (""
// leaves the check to TestAccessibility's skip): for screens no link reaches, such
// as a wizard's later steps.
func (b *tab) accessible(src, screen string) {
	b.t.Helper()
	if src == "" {
		return
	}
	for _, v := range b.axe(src) {
		b.t.Errorf("%s at %d px: %s (%s) %v", screen, b.width, v.Help, v.Impact, v.Targets)
	}
}

// axeIfPresent is axe-core when it is installed, else "".
func axeIfPresent() string {
	path := os.Getenv("ROSTER_AXE")
	if path == "" {
		_, file, _, _ := runtime.Caller(0)
		path = filepath.Join(filepath.Dir(file), "..", "..", ".ci", "node", "node_modules", "axe-core", "axe.min.js")
	}
	src, _ := os.ReadFile(path)
	return string(src)
}

// violation is one axe-core rule a page breaks, with where.
type violation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axe runs axe-core's WCAG 2.2 A and AA rules (and its best practices) on the page
// as it is now, and returns the serious and critical violations.
func (b *tab) axe(src string) []violation {
	b.t.Helper()
	var loaded bool
	b.run(settled(), chromedp.Evaluate(`typeof window.axe === "object"`, &loaded))
	if !loaded {
		b.run(chromedp.Evaluate(src+";true", &loaded))
	}
	var got []violation
	// axe takes a second or more on a long page of a loaded machine: more time than
	// a click.
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	err := chromedp.Run(ctx, chromedp.Evaluate(`axe.run(document, {
			runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
			resultTypes: ["violations"]
		}).then(r => r.violations
			.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => ({id: v.id, impact: v.impact, help: v.help,
				targets: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + n.failureSummary.split("\n").slice(1, 2).join(""))})))`,
		&got, func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if err != nil {
		b.t.Fatalf("axe: %v", err)
	}
	return got
}

// idSegment is a path segment that names a record (an account, a role, an import):
// pages that differ only in one are the same screen.
var idSegment = regexp.MustCompile(`^[0-9a-z]{16,}$`)

// screen is the shape of a console link: its path with ids replaced, and the
// confirmation it asks for, if any.
func screen(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	parts := strings.Split(u.Path, "/")
	for i, p := range parts {
		if idSegment.MatchString(p) {
			parts[i] = "{id}"
		}
	}
	// Filters and pages of a list are the same screen; a confirmation (?confirm=…,
	// or the Domains page's ?remove=<id>) is another.
	confirm := u.Query().Get("confirm")
	if confirm == "" && u.Query().Get("remove") != "" {
		confirm = "remove"
	}
	return strings.Join(parts, "/") + "?" + confirm
}

// crawlable reports whether a link is a console screen to visit: not a download,
// not the way out, not a static file.
func crawlable(link string) bool {
	if !strings.HasPrefix(link, "/") || strings.HasPrefix(link, "//") || strings.HasPrefix(link, "/static/") ||
		strings.HasPrefix(link, "/api/") || strings.HasPrefix(link, "/scim/") {
		return false
	}
	path, _, _ := strings.Cut(link, "?")
	path, _, _ = strings.Cut(path, "#")
	for _, suffix := range []string{".xlsx", ".csv", ".json", "/logout"} {
		if strings.HasSuffix(path, suffix) {
			return false
		}
	}
	return true
}

// audit visits every screen reachable by links from the start pages (one page per
// screen shape, at most limit) and checks each with axe-core at the tab's width. It
// returns the screens it visited.
func (b *tab) audit(src string, limit int, start ...string) []string {
	b.t.Helper()
	queue := slices.Clone(start)
	seen := map[string]bool{}
	for _, p := range start {
		seen[screen(p)] = true
	}
	var visited []string
	for len(queue) > 0 && len(visited) < limit {
		path := queue[0]
		queue = queue[1:]
		b.open(path)
		visited = append(visited, path)
		for _, v := range b.axe(src) {
			b.t.Errorf("%s at %d px: %s (%s): %s\n\t%s", path, b.width, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "\n\t"))
		}
		var links []string
		b.run(chromedp.Evaluate(`Array.from(document.querySelectorAll("a[href]"), a => a.getAttribute("href"))`, &links))
		for _, l := range links {
			if crawlable(l) && !seen[screen(l)] {
				seen[screen(l)] = true
				queue = append(queue, l)
			}
		}
	}
	if len(queue) > 0 {
		b.t.Errorf("more than %d screens: %v were not checked", limit, queue)
	}
	return visited
}

// TestAccessibility checks every screen of the console with axe-core in Chromium, as
// each of its users sees it — a stranger, a member, an organization admin, a
// partner admin and the operator — on a desktop and on a phone: no serious or
// critical violation of WCAG 2.2 A/AA or of axe's best practices.
func TestAccessibility(t *testing.T) {
	if raceEnabled {
		t.Skip("the pages' markup is the same under -race; the plain run checks it")
	}
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		chromium(t) // skips here, not in a width's subtest
		src := axeSource(t)
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		no, yes := false, true
		must[account.Member](t)(s.svc.AddMember(ctx, s.op, "northwind", account.AddMemberInput{Email: "pat@northwind.test",
			FirstName: "Pat", LastName: "Partner", Role: "admin", SendInvite: &no, Password: pass}))
		must[account.Member](t)(s.svc.AddMember(ctx, w.adaActor, "acme", account.AddMemberInput{Email: "ivy@elsewhere.test",
			FirstName: "Ivy", LastName: "Invited", SendInvite: &yes}))
		// An application's webhook with a delivery, so that the operator's crawl
		// reaches the webhook screens with a row in each.
		studio := must[account.Application](t)(s.svc.FindApplication(ctx, s.op, "studio"))
		hookURL := "https://hooks.example.test/roster"
		hook := must[account.Webhook](t)(s.svc.CreateWebhook(ctx, s.op, studio.ID, account.WebhookInput{URL: &hookURL,
			Events: &[]string{"seat.assigned", "seat.unassigned"}}))
		if err := s.svc.TestWebhook(ctx, s.op, studio.ID, hook.ID); err != nil {
			t.Fatal(err)
		}
		// A pending domain, so that the admin's crawl reaches the Domains page with a
		// row and its removal's confirmation.
		must[account.Domain](t)(s.svc.AddDomain(ctx, w.adaActor, "acme", "acme.example"))

		for _, width := range []int{1280, 390} {
			t.Run(fmt.Sprint(width), func(t *testing.T) {
				b := s.browser("")
				b.t = t
				b.resize(width)
				const limit = 60
				// A stranger: login, sign-up, password reset, and the pages of links that
				// are used or unknown.
				b.audit(src, limit, "/login", "/signup", "/password-reset", "/password-reset/unknown",
					"/invitations/unknown", "/verify-email/unknown")
				for _, who := range []string{"bob@acme.test", "ada@acme.test", "pat@northwind.test", opEmail} {
					pw := pass
					if who == opEmail {
						pw = opPass
					}
					b.login(who, pw)
					visited := b.audit(src, limit, b.location())
					t.Logf("%s: %d screens", who, len(visited))
					if who == "ada@acme.test" { // the Domains page is among them
						for _, want := range []string{"/settings/domains?", "/settings/domains?remove"} {
							if !slices.ContainsFunc(visited, func(v string) bool { return strings.HasSuffix(screen(v), want) }) {
								t.Errorf("the admin's crawl did not check the screen %s: %v", want, visited)
							}
						}
					}
					if who == opEmail { // the webhook screens are among them
						for _, want := range []string{"/webhooks?", "/webhooks/{id}?", "/webhooks/{id}?delete", "/webhooks?" + hook.ID, "/deliveries?"} {
							if !slices.ContainsFunc(visited, func(v string) bool { return strings.HasSuffix(screen(v), want) }) {
								t.Errorf("the operator's crawl did not check the screen %s: %v", want, visited)
							}
						}
					}
					// The next person starts without this one's session (on a phone the
					// header's log-out button is behind the menu).
					b.run(network.ClearBrowserCookies())
				}
			})
		}
	})
}
