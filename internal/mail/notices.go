package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"roster.dev/roster/internal/account"
)

// noticeCopy is what one kind of notice says: its subject and its lead paragraph,
// templates over account.Notice. The layout around them is shared.
type noticeCopy struct {
	Subject, Lead, Action string
	// Footer says why the person gets the email; the access-change footer when empty.
	Footer string
}

// seatRequestFooter ends the emails about a seat request's decision.
const seatRequestFooter = "Roster, for {{.Organization}}. You get this email because you asked for more seats of " +
	"{{.Application}} for {{.Organization}}."

// accessFooter ends the emails about access changes.
const accessFooter = "Roster, for {{.Organization}}. You get this email because your access in " +
	"{{.Organization}} changed. If you did not expect it, tell an administrator of {{.Organization}}."

// roleAllows says what the new role lets the person do, from its permissions; a role
// with none manages nothing.
const roleAllows = "{{if .Allows}}It lets you: {{.Allows}}.{{else}}It does not let you manage {{.Organization}}: " +
	"you keep your membership, your teams and your seats.{{end}}"

var noticeCopies = map[string]noticeCopy{
	account.NoticeSeatAssigned: {
		Subject: "You now have access to {{.Application}} in {{.Organization}}",
		Lead:    "{{.Actor}} gave you a seat of {{.Application}} in {{.Organization}}. You can use it right away.",
		Action:  "Open Roster",
	},
	account.NoticeSeatUnassigned: {
		Subject: "Your access to {{.Application}} in {{.Organization}} has ended",
		Lead:    "{{.Actor}} took back your seat of {{.Application}} in {{.Organization}}. If you still need it, ask an administrator of {{.Organization}}.",
		Action:  "See your access",
	},
	account.NoticeRoleChanged: {
		Subject: "Your role in {{.Organization}} is now {{.Role}}",
		Lead:    "{{.Actor}} changed your role in {{.Organization}} from {{.PreviousRole}} to {{.Role}}. " + roleAllows,
		Action:  "See your access",
	},
	account.NoticeAdminGranted: {
		Subject: "Your role in {{.Organization}} is now {{.Role}}",
		Lead:    "{{.Actor}} made you {{.Role}} of {{.Organization}} (until now: {{.PreviousRole}}). " + roleAllows,
		Action:  "Open {{.Organization}}",
	},
	account.NoticeAdminRevoked: {
		Subject: "Your role in {{.Organization}} is now {{.Role}}",
		Lead:    "{{.Actor}} changed your role in {{.Organization}} from {{.PreviousRole}} to {{.Role}}. " + roleAllows,
		Action:  "See your access",
	},
	account.NoticeDeactivated: {
		Subject: "Your access to {{.Organization}} is suspended",
		Lead:    "{{.Actor}} deactivated your membership of {{.Organization}}. Nothing is deleted: an administrator can reactivate you, and everything you had comes back.",
		Action:  "Open Roster",
	},
	account.NoticeReactivated: {
		Subject: "Your access to {{.Organization}} is restored",
		Lead:    "{{.Actor}} reactivated your membership of {{.Organization}}. Your role, teams and seats are as they were.",
		Action:  "Open Roster",
	},
	account.NoticeInvitation: {
		Subject: "{{.Actor}} invited you to {{.Organization}}",
		Lead: "{{.Actor}} invited you to join {{.Organization}} on Roster as {{.Role}}" +
			"{{if .Application}}, with access to {{.Application}}{{end}}. " +
			"Accept the invitation to set up your account, or to add {{.Organization}} to the account you have. " +
			"The link works once, until {{.Expires}}.",
		Action: "Accept the invitation",
		Footer: "Roster, for {{.Organization}}. You get this email because {{.Actor}} invited {{.To}}. " +
			"If you did not expect it, ignore it: nothing happens unless you accept.",
	},
	account.NoticeJoinRequest: {
		Subject: "{{.Actor}} asks to join {{.Organization}}",
		Lead: "{{.Actor}} ({{.ActorEmail}}) asked to join {{.Organization}}" +
			"{{if .Message}} and wrote: \u201c{{.Message}}\u201d{{else}}.{{end}} " +
			"Approve the request to send them an invitation, or deny it.",
		Action: "Review the request",
		Footer: "Roster, for {{.Organization}}. You get this email because you review the requests to join {{.Organization}}.",
	},
	account.NoticeVerifyEmail: {
		Subject: "Confirm your email address for Roster",
		Lead: "Welcome to Roster. Confirm that {{.To}} is your email address to activate your account. " +
			"The link works once, until {{.Expires}}.",
		Action: "Confirm my email address",
		Footer: "You get this email because someone signed up for Roster with {{.To}}. " +
			"If it was not you, ignore it: no account is created.",
	},
	account.NoticeAccountExists: {
		Subject: "You already have a Roster account",
		Lead: "Someone, probably you, tried to sign up for Roster with {{.To}}, which has an account already. " +
			"Log in with it; if you forgot its password, choose a new one.",
		Action: "Reset my password",
		Footer: "You get this email because someone tried to sign up for Roster with {{.To}}. " +
			"If it was not you, ignore it: nothing changed.",
	},
	account.NoticePasswordReset: {
		Subject: "Reset your Roster password",
		Lead: "Someone, probably you, asked to reset the password of the Roster account {{.To}}. " +
			"Choose a new one with the link below: it works once, until {{.Expires}}. " +
			"Choosing it logs the account out everywhere.",
		Action: "Choose a new password",
		Footer: "You get this email because a password reset was asked for {{.To}}. " +
			"If it was not you, ignore it: your password stays as it is.",
	},
	account.NoticeActivation: {
		Subject: "Welcome to Roster: {{.Organization}} created an account for you",
		Lead: "Welcome to Roster. Your organization {{.Organization}} created an account for you, {{.To}}" +
			"{{if .Actor}} (through {{.Actor}}){{end}}. Set your password here to start using it: " +
			"the link works once, until {{.Expires}}.",
		Action: "Set my password",
		Footer: "Roster, for {{.Organization}}. You get this email because {{.Organization}} created a Roster account for {{.To}}. " +
			"If you did not expect it, tell an administrator of {{.Organization}}.",
	},
	account.NoticeSeatRequest: {
		Subject: "{{.Organization}} asks for {{.Seats}} more seat{{if ne .Seats 1}}s{{end}} of {{.Application}}",
		Lead: "{{.Actor}} ({{.ActorEmail}}) asked for {{.Seats}} more seat{{if ne .Seats 1}}s{{end}} of {{.Application}} for {{.Organization}}" +
			"{{if .Message}} and wrote: \u201c{{.Message}}\u201d{{else}}.{{end}} " +
			"Approve the request to raise the quota of its subscription, or deny it.",
		Action: "Review the request",
		Footer: "Roster. You get this email because you are an operator of this Roster, who decide on seat requests.",
	},
	account.NoticeWebhookDisabled: {
		Subject: "A webhook endpoint of {{.Application}} is disabled",
		Lead: "Every delivery to the webhook endpoint {{.Message}} of {{.Application}} has failed since {{.Expires}}, " +
			"so Roster disabled it: it gets no events until an operator enables it again. " +
			"Its application can catch up from its event feed.",
		Action: "Open Roster",
		Footer: "Roster. You get this email because you are an operator of this Roster.",
	},
	account.NoticeAccountDisabled: {
		Subject: "Your Roster account is disabled",
		Lead: "An operator of Roster disabled your account {{.To}}: you are logged out everywhere, you cannot log in, " +
			"and no application lets you in through it. Nothing is deleted: your memberships, teams and seats come back " +
			"if an operator enables it again.",
		Action: "Open Roster",
		Footer: "Roster. You get this email because the Roster account {{.To}} was disabled. " +
			"If you think it is a mistake, tell an administrator of your organization.",
	},
	account.NoticeAccountEnabled: {
		Subject: "Your Roster account is enabled again",
		Lead: "An operator of Roster enabled your account {{.To}} again: you can log in, and your memberships, " +
			"teams and seats are as they were.",
		Action: "Log in to Roster",
		Footer: "Roster. You get this email because the Roster account {{.To}} was enabled again.",
	},
	account.NoticeDomainVerified: {
		Subject: "{{.Message}} is verified for {{.Organization}}",
		Lead: "Roster found the DNS record that proves {{.Organization}} owns {{.Message}}: the domain is verified. " +
			"What people with an address at {{.Message}} may do now is the join policy in the organization's settings.",
		Action: "See the domains",
		Footer: "Roster, for {{.Organization}}. You get this email because you manage the members of {{.Organization}}.",
	},
	account.NoticeDomainExpired: {
		Subject: "{{.Message}} could not be verified for {{.Organization}}",
		Lead: "Roster looked for the DNS record of {{.Message}} for a week, until {{.Expires}}, without finding it: " +
			"the domain is expired. Publish the TXT record shown on the Domains page, then check it again there: " +
			"it is looked for another week.",
		Action: "See the domains",
		Footer: "Roster, for {{.Organization}}. You get this email because you manage the members of {{.Organization}}.",
	},
	account.NoticeDomainJoined: {
		Subject: "You are now a member of {{.Organization}}",
		Lead: "{{.Organization}} verified that it owns {{.Message}}, and lets people with an address there join at once: " +
			"you are now a member of {{.Organization}}, with the role {{.Role}}. " + roleAllows +
			" If you do not want to be in {{.Organization}}, you can leave it from your account page.",
		Action: "Open Roster",
	},
	account.NoticeDomainManaged: {
		Subject: "{{.Organization}} now manages your Roster account",
		Lead: "{{.Organization}} verified that it owns {{.Message}}, and manages the Roster accounts with an address there: " +
			"it made your account {{.To}} a member of {{.Organization}} directly, without asking you first. " +
			"Its administrators may now see and change your name, phone and username. Your password stays your own: " +
			"no organization can see or change it.",
		Action: "Open Roster",
		Footer: "Roster, for {{.Organization}}. You get this email because {{.Organization}} manages the accounts at {{.Message}}. " +
			"If you did not expect it, tell an administrator of {{.Organization}}.",
	},
	account.NoticeDomainEdited: {
		Subject: "{{.Organization}} changed your Roster profile",
		Lead: "{{.Organization}}, which manages the Roster accounts at {{.Message}}, changed the profile of your account {{.To}}: " +
			"{{.Changes}}. You can see your profile, and change it, on your account page.",
		Action: "See your account",
		Footer: "Roster, for {{.Organization}}. You get this email because {{.Organization}} manages the accounts at {{.Message}}. " +
			"If you did not expect it, tell an administrator of {{.Organization}}.",
	},
	account.NoticeSeatRequestApproved: {
		Subject: "Your request for seats of {{.Application}} in {{.Organization}} is approved",
		Lead: "{{.Actor}} approved your request for more seats of {{.Application}} in {{.Organization}}: " +
			"its subscription has {{.Seats}} more seat{{if ne .Seats 1}}s{{end}}, which you can assign now.",
		Action: "See the subscriptions",
		Footer: seatRequestFooter,
	},
	account.NoticeSeatRequestDenied: {
		Subject: "Your request for seats of {{.Application}} in {{.Organization}} is denied",
		Lead: "{{.Actor}} denied your request for {{.Seats}} more seat{{if ne .Seats 1}}s{{end}} of {{.Application}} in {{.Organization}}. " +
			"The quota of its subscription stays as it is.",
		Action: "See the subscriptions",
		Footer: seatRequestFooter,
	},
	account.NoticeLeft: {
		Subject: "You left {{.Organization}}",
		Lead: "You, {{.Actor}}, left {{.Organization}}: your seats and teams there are given up. " +
			"Your Roster account and your other organizations are not affected. To come back, ask to join {{.Organization}} again.",
		Action: "Open Roster",
	},
	account.NoticeMemberLeft: {
		Subject: "{{.Actor}} left {{.Organization}}",
		Lead:    "{{.Actor}} ({{.ActorEmail}}) left {{.Organization}} on their own; their seats there are free again.",
		Action:  "See the users",
		Footer:  "Roster, for {{.Organization}}. You get this email because you may remove members of {{.Organization}}.",
	},
	account.NoticeRemoved: {
		Subject: "You were removed from {{.Organization}}",
		Lead:    "{{.Actor}} removed you from {{.Organization}}, with your seats there. Your Roster account and your other organizations are not affected.",
		Action:  "Open Roster",
	},
}

const textLayout = `Hello {{.Notice.Name}},

{{.Lead}}

{{.Action}}: {{.Notice.Link}}

--
{{.Footer}}
`

const htmlLayout = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1c1c1e">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0"><tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;width:100%;background:#ffffff;border-radius:8px;padding:32px">
<tr><td style="font-size:13px;color:#6b6b70;padding-bottom:16px">{{.Header}}</td></tr>
<tr><td style="font-size:20px;font-weight:600;padding-bottom:16px">{{.Subject}}</td></tr>
<tr><td style="font-size:16px;line-height:1.5;padding-bottom:8px">Hello {{.Notice.Name}},</td></tr>
<tr><td style="font-size:16px;line-height:1.5;padding-bottom:24px">{{.Lead}}</td></tr>
<tr><td style="padding-bottom:24px"><a href="{{.Notice.Link}}" style="display:inline-block;background:#0a5cd5;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600">{{.Action}}</a></td></tr>
<tr><td style="font-size:12px;line-height:1.5;color:#6b6b70;border-top:1px solid #e5e5ea;padding-top:16px">{{.Footer}}</td></tr>
</table></td></tr></table>
</body></html>
`

// NoticeRenderer renders access-change notices: one layout, a text and an HTML
// part, the organization's name, who made the change, what changed and a link.
type NoticeRenderer struct {
	text *texttemplate.Template
	html *htmltemplate.Template
	copy map[string]parsedCopy
}

type parsedCopy struct {
	subject, lead, action, footer *texttemplate.Template // text: subject and the text part
	leadHTML, actionHTML          *htmltemplate.Template // escaped for the HTML part
	footerHTML                    *htmltemplate.Template
}

var _ account.Renderer = (*NoticeRenderer)(nil)

// NewNoticeRenderer parses the templates; it panics on a template error, which is a
// programming error caught by the tests.
func NewNoticeRenderer() *NoticeRenderer {
	r := &NoticeRenderer{
		text: texttemplate.Must(texttemplate.New("text").Parse(textLayout)),
		html: htmltemplate.Must(htmltemplate.New("html").Parse(htmlLayout)),
		copy: map[string]parsedCopy{},
	}
	for kind, c := range noticeCopies {
		if c.Footer == "" {
			c.Footer = accessFooter
		}
		r.copy[kind] = parsedCopy{
			footer:     texttemplate.Must(texttemplate.New(kind + ".footer").Parse(c.Footer)),
			footerHTML: htmltemplate.Must(htmltemplate.New(kind + ".footer").Parse(c.Footer)),
			subject:    texttemplate.Must(texttemplate.New(kind + ".subject").Parse(c.Subject)),
			lead:       texttemplate.Must(texttemplate.New(kind + ".lead").Parse(c.Lead)),
			action:     texttemplate.Must(texttemplate.New(kind + ".action").Parse(c.Action)),
			leadHTML:   htmltemplate.Must(htmltemplate.New(kind + ".lead").Parse(c.Lead)),
			actionHTML: htmltemplate.Must(htmltemplate.New(kind + ".action").Parse(c.Action)),
		}
	}
	return r
}

// Render returns the notice's subject, text part and HTML part.
func (r *NoticeRenderer) Render(n account.Notice) (subject, text, html string, err error) {
	c, ok := r.copy[n.Kind]
	if !ok {
		return "", "", "", fmt.Errorf("mail: no template for notice %q", n.Kind)
	}
	var b bytes.Buffer
	run := func(execute func(*bytes.Buffer) error) string {
		b.Reset()
		if e := execute(&b); e != nil && err == nil {
			err = e
		}
		return b.String()
	}
	subject = run(func(w *bytes.Buffer) error { return c.subject.Execute(w, n) })
	// A subject is one header line, whatever the names in it hold.
	subject = strings.Join(strings.Fields(subject), " ")
	lead := run(func(w *bytes.Buffer) error { return c.lead.Execute(w, n) })
	action := run(func(w *bytes.Buffer) error { return c.action.Execute(w, n) })
	leadHTML := run(func(w *bytes.Buffer) error { return c.leadHTML.Execute(w, n) })
	actionHTML := run(func(w *bytes.Buffer) error { return c.actionHTML.Execute(w, n) })
	footer := run(func(w *bytes.Buffer) error { return c.footer.Execute(w, n) })
	footerHTML := run(func(w *bytes.Buffer) error { return c.footerHTML.Execute(w, n) })
	header := n.Organization
	if header == "" {
		header = "Roster"
	}
	text = run(func(w *bytes.Buffer) error {
		return r.text.Execute(w, map[string]any{"Notice": n, "Lead": wrapText(lead, 76), "Action": action,
			"Footer": wrapText(footer, 76)})
	})
	html = run(func(w *bytes.Buffer) error {
		return r.html.Execute(w, map[string]any{"Notice": n, "Subject": subject, "Header": header,
			"Footer": htmltemplate.HTML(footerHTML), "Lead": htmltemplate.HTML(leadHTML), "Action": htmltemplate.HTML(actionHTML)})
	})
	return subject, text, html, err
}

// wrapText breaks s into lines of at most width characters, at spaces.
func wrapText(s string, width int) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		if i > 0 {
			if line+1+len(w) > width {
				b.WriteByte('\n')
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}
