package mail

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestNoticeGolden pins every notice's subject, text and HTML in testdata: a change
// of wording shows in review as a change of the golden files
// (go test ./internal/mail -run Golden -update).
func TestNoticeGolden(t *testing.T) {
	r := NewNoticeRenderer()
	for kind := range noticeCopies {
		n := account.Notice{Kind: kind, To: "ada@acme.example", Name: "Ada", Organization: "Acme Corp",
			Actor: "Grace Hopper", ActorEmail: "grace@acme.example", Application: "Studio and Support",
			Role: "Admin", PreviousRole: "Member", Expires: "Tue 1 Dec 2026, 15:04 UTC",
			Message: "I run the Lisbon office.", Link: "https://roster.acme.example/", Seats: 5,
			Allows: "see its members and teams, invite people, assign seats", Changes: "first name, phone"}
		if kind == account.NoticeAdminRevoked {
			n.Role, n.PreviousRole, n.Allows = "Member", "Admin", "" // a role with no permissions
		}
		if domainNotices[kind] {
			n.Message = "acme.example" // the domain
		}
		platform := platformNotices[kind]
		if platform {
			n.Organization, n.Actor, n.ActorEmail = "", "", ""
		}
		subject, text, html, err := r.Render(n)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		got := "Subject: " + subject + "\n\n" + text
		for ext, content := range map[string]string{".txt": got, ".html": html} {
			golden := filepath.Join("testdata", kind+ext)
			if *update {
				if err := os.WriteFile(golden, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(want) != content {
				t.Errorf("%s changed; review and run go test ./internal/mail -run Golden -update\n--- got:\n%s", golden, content)
			}
		}
		if domainNotices[kind] && (!strings.Contains(text, "Acme Corp") || !strings.Contains(text, "acme.example")) {
			t.Errorf("%s lacks the organization or the domain", kind)
		}
		if !platform && !domainNotices[kind] && (!strings.Contains(text, "Acme Corp") || !strings.Contains(text, "Grace Hopper")) {
			t.Errorf("%s lacks the organization or the actor", kind)
		}
		if !strings.Contains(text, "https://roster.acme.example/") || !strings.Contains(html, `href="https://roster.acme.example/"`) {
			t.Errorf("%s lacks the link", kind)
		}
		if strings.Contains(text+html, "{{") || strings.Contains(text+html, "<no value>") {
			t.Errorf("%s has an unfilled field:\n%s", kind, text)
		}
	}
}

// platformNotices are the emails of no organization: sign-up, password reset, a
// disabled webhook endpoint, a disabled or enabled account.
var platformNotices = map[string]bool{
	account.NoticeVerifyEmail: true, account.NoticeAccountExists: true, account.NoticePasswordReset: true,
	account.NoticeWebhookDisabled: true, account.NoticeAccountDisabled: true, account.NoticeAccountEnabled: true,
}

// domainNotices are the emails Roster itself writes about an organization's domain
// (verified or expired, a person joined by it, an account managed or edited by it): they name the domain, not an actor.
var domainNotices = map[string]bool{
	account.NoticeDomainVerified: true, account.NoticeDomainExpired: true, account.NoticeDomainJoined: true,
	account.NoticeDomainManaged: true, account.NoticeDomainEdited: true,
}

// TestNoticeEscaping: names are data, never markup or headers.
func TestNoticeEscaping(t *testing.T) {
	r := NewNoticeRenderer()
	subject, text, html, err := r.Render(account.Notice{Kind: account.NoticeRemoved, Name: "<b>Ada</b>",
		Organization: "Evil <script>alert(1)</script>\r\nBcc: x@y.z", Actor: `"Mallory" & co`, Link: "https://r.example/"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject spans lines: %q", subject)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "<b>Ada") || !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("HTML not escaped:\n%s", html)
	}
	if !strings.Contains(text, "<b>Ada</b>") {
		t.Errorf("the text part should show the name as it is:\n%s", text)
	}
	if _, _, _, err := r.Render(account.Notice{Kind: "nope"}); err == nil {
		t.Error("an unknown kind rendered")
	}
}
