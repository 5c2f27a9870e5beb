package console

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"roster.dev/roster/internal/account"
)

// assetVersions are short hashes of the embedded assets, appended to their URLs so
// that a new release is never served from a stale cache.
var assetVersions = func() map[string]string {
	v := map[string]string{}
	_ = fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v[path[len("static/"):]] = hex.EncodeToString(sum[:6])
		return nil
	})
	return v
}()

// asset is the URL of an embedded asset.
func asset(name string) string { return "/static/" + name + "?v=" + assetVersions[name] }

// tokenURL is the address of an emailed link's page for a token that
// linkToken accepted, its token escaped as one path segment all the same.
func tokenURL(base, token string) templ.SafeURL {
	return templ.SafeURL(base + "/" + url.PathEscape(token))
}

// seg escapes a value (an id, a slug) as one path segment of a URL: a value never
// adds a segment, a query or a fragment.
func seg(s string) string { return url.PathEscape(s) }

// qv escapes a value for a URL's query.
func qv(s string) string { return url.QueryEscape(s) }

// current marks the navigation entry of the page shown.
func current(on bool) templ.Attributes {
	if on {
		return templ.Attributes{"aria-current": "page"}
	}
	return templ.Attributes{}
}

func orgHome(o account.Organization) string {
	if o.Kind == account.KindPartner {
		return "/o/" + url.PathEscape(o.Slug) + "/organizations"
	}
	return "/o/" + url.PathEscape(o.Slug) + "/users"
}

func kindLabel(k account.OrgKind) string {
	if k == account.KindPartner {
		return "Partner"
	}
	return "Organization"
}

func date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006")
}

func dateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

func nowOf(p *page) time.Time { return p.now }

func cardTitle(on bool) string {
	if on {
		return "Showing this subscription's seat holders; choose again to show everyone"
	}
	return "Show only this subscription's seat holders"
}

func badgeLabel(b string) string {
	switch b {
	case account.BadgeStartingSoon:
		return "starting soon"
	case account.BadgeEndingSoon:
		return "ending soon"
	}
	return b
}

// meterClass sizes a quota meter in steps of 5% (a class, as the CSP allows no
// inline styles).
func meterClass(used, quota int) string {
	pct := 0
	if quota > 0 {
		pct = used * 100 / quota
	}
	pct = min(100, pct-pct%5)
	if used > 0 && pct == 0 {
		pct = 5
	}
	return "w-" + itoa(pct)
}

// grantable reports whether the signed-in account may give role id.
func grantable(p *page, id string) bool {
	if p.Access == nil {
		return false
	}
	for _, r := range p.Access.Grantable {
		if r.ID == id {
			return true
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func subApp(v *usersView, subID string) string {
	for _, s := range v.Summary.Subscriptions {
		if s.ID == subID {
			return s.ApplicationKey
		}
	}
	return ""
}

func confirmQuestion(action string, m account.Member, org string) string {
	name := account.DisplayName(m.Account)
	if action == "remove" {
		return "Remove " + name + " from " + org + "? Their seats here are freed and a pending invitation is cancelled; their account and other organizations are not touched."
	}
	if action == "cancel-invitation" {
		return "Cancel the invitation of " + m.Account.Email + "? Its link stops working, they leave " + org + " and the seats it reserved are freed."
	}
	if action == "disable-account" {
		return "Disable the account of " + name + "? Its sessions end at once, it cannot log in, and no application lets it in, in any organization; its memberships and seats are kept, and you can enable it again."
	}
	return "Deactivate " + name + "? They lose access to " + org + " at once but keep their seats and data; you can reactivate them later."
}

func confirmLabel(action string) string {
	if action == "remove" {
		return "Yes, remove"
	}
	if action == "cancel-invitation" {
		return "Yes, cancel the invitation"
	}
	if action == "disable-account" {
		return "Yes, disable the account"
	}
	return "Yes, deactivate"
}

func confirmURL(p *page, v *usersView, action string) string {
	q := v.Filter.query(true)
	if q == "" {
		q = "?confirm=" + action
	} else {
		q += "&confirm=" + action
	}
	return p.base() + "/users/" + seg(v.Panel.Member.AccountID) + q
}

func parseQuery(u string) url.Values {
	pu, err := url.Parse(u)
	if err != nil {
		return url.Values{}
	}
	return pu.Query()
}

func itoa(n int) string { return strconv.Itoa(n) }

func importStateText(imp account.Import) string {
	switch imp.State {
	case account.ImportQueued:
		return "Waiting to start…"
	case account.ImportRunning:
		return "Applying rows…"
	case account.ImportDone:
		return "Finished " + dateTime(imp.FinishedAt) + "."
	}
	return "Stopped."
}

// goneTitle heads the page of an invitation link that cannot be used.
func goneTitle(prob *problem) string {
	switch {
	case strings.Contains(prob.Message, "expired"):
		return "This invitation has expired"
	case strings.Contains(prob.Message, "accepted"):
		return "This invitation was already accepted"
	case strings.Contains(prob.Message, "cancelled"):
		return "This invitation was cancelled"
	}
	return "This invitation link is no longer valid"
}

// roleName names role id among roles; a predefined role by its name, and an
// unknown custom role (one the viewer may not read) as such, never by its id.
func roleName(roles []account.Role, id string) string {
	for _, r := range roles {
		if r.ID == id {
			return r.Name
		}
	}
	for _, r := range account.PredefinedRoles() {
		if r.ID == id {
			return r.Name
		}
	}
	return customRole
}

// customRole names a custom role the viewer may not read.
const customRole = "Custom role"

// num writes a count for people to read, thousands separated: 20,008.
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// seatApps are the applications of seats, each once: a member holding the seats of
// an entry and of its renewal has one application, not two.
func seatApps(seats []account.MemberSeat) []string {
	var out []string
	for _, s := range seats {
		if !contains(out, s.ApplicationKey) {
			out = append(out, s.ApplicationKey)
		}
	}
	return out
}
