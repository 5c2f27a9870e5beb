package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"roster.dev/roster/internal/account"
)

// auditView is the Audit log screen: the organization's events, newest first, a
// page at a time.
type auditView struct {
	Cursor string
	Page   account.Page[account.AuditEvent]
	// Names name the events' targets where the viewer may read them: an account by
	// its name and email, a role or team by its name.
	Names map[string]string
}

// audit renders the Audit log screen; ?cursor= pages. The page's frame is read with
// the events and their targets' names (FindAuditLog).
func (c *Console) audit(w http.ResponseWriter, r *http.Request, p *page) {
	v := &auditView{Cursor: r.URL.Query().Get("cursor")}
	f, l, err := c.svc.FindAuditLog(r.Context(), p.Actor, p.orgRef, account.AuditQuery{Cursor: v.Cursor, Limit: 50})
	p.setFrame(f)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Page, v.Names = l.Page, auditTargetNames(p, l)
	c.render(w, r, http.StatusOK, auditPage(p, v))
}

// auditTargetNames names the targets of events: the organization, and the members,
// roles and teams the viewer may read (the audit log holds them). A target it may
// not read, or one deleted since, keeps the name its event recorded, if any
// (auditTarget).
func auditTargetNames(p *page, l account.AuditLog) map[string]string {
	names := map[string]string{p.Org().ID: p.Org().Name}
	for _, r := range l.Roles {
		names[r.ID] = r.Name
	}
	for _, t := range l.Teams {
		names[t.ID] = t.Name
	}
	for _, m := range l.Members {
		names[m.AccountID] = accountLabel(m.Account)
	}
	return names
}

// accountLabel is a person as a list shows them: name and email, or the email
// alone when they have no name.
func accountLabel(a account.Account) string {
	if n := account.DisplayName(a); n != a.Email && a.Email != "" {
		return n + " <" + a.Email + ">"
	}
	return a.Email
}

// auditTarget names an event's target: from names, else from the event's own
// record (an email or a name it kept), else nothing.
func auditTarget(v *auditView, e account.AuditEvent) string {
	if n := v.Names[e.TargetID]; n != "" {
		return n
	}
	for _, obj := range []map[string]json.RawMessage{auditObject(e.After), auditObject(e.Before)} {
		for _, k := range []string{"email", "name", "slug", "description"} {
			var s string
			if raw, ok := obj[k]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
				return s
			}
		}
	}
	return ""
}

// targetKinds name the kinds of things the audit log records changes to.
var targetKinds = map[string]string{
	"account": "account", "application": "application", "application_key": "API key",
	"import": "import", "invitation": "invitation", "join_request": "join request",
	"organization": "organization", "role": "role", "scim_token": "SCIM token",
	"seat_request": "seat request", "subscription": "subscription", "team": "team",
}

// targetKind names the kind of an event's target in words.
func targetKind(t string) string {
	if k, ok := targetKinds[t]; ok {
		return k
	}
	return strings.ReplaceAll(t, "_", " ")
}

func auditPageURL(p *page, cursor string) string {
	if cursor == "" {
		return p.base() + "/audit"
	}
	return p.base() + "/audit?cursor=" + url.QueryEscape(cursor)
}

// auditChange is one key of an event's before and after: old → new.
type auditChange struct {
	Key, Old, New string
}

// auditChanges lists what an event changed, key by key in alphabetical order; a key only
// before (a deletion) or only after (a creation) has "—" on the other side.
func auditChanges(e account.AuditEvent) []auditChange {
	before, after := auditObject(e.Before), auditObject(e.After)
	keys := make([]string, 0, len(before)+len(after))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]auditChange, 0, len(keys))
	for _, k := range keys {
		out = append(out, auditChange{Key: k, Old: auditValue(before[k]), New: auditValue(after[k])})
	}
	return out
}

// auditObject decodes an event's before or after; anything but an object is shown
// as the value of an empty key.
func auditObject(b []byte) map[string]json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return map[string]json.RawMessage{"": b}
	}
	return m
}

// auditValue shows one value compactly: strings without their quotes (times as the
// console shows them), the rest as JSON, long values cut.
func auditValue(raw json.RawMessage) string {
	if raw == nil {
		return "—"
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return `""`
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return dateTime(t)
		}
		return auditCut(s)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return auditCut(string(raw))
	}
	return auditCut(buf.String())
}

func auditCut(s string) string {
	const max = 200
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// auditSummary names the changed keys for the details' summary.
func auditSummary(cs []auditChange) string {
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.Key != "" {
			keys = append(keys, c.Key)
		}
	}
	if len(keys) == 0 {
		return plural(len(cs), "change", "changes")
	}
	return strings.Join(keys, ", ")
}
