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
}

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
		Lead:    "{{.Actor}} changed your role in {{.Organization}} from {{.PreviousRole}} to {{.Role}}.",
		Action:  "See your access",
	},
	account.NoticeAdminGranted: {
		Subject: "You are now an administrator of {{.Organization}}",
		Lead:    "{{.Actor}} made you {{.Role}} of {{.Organization}} (until now: {{.PreviousRole}}). You can now manage its people, their roles and their seats.",
		Action:  "Manage {{.Organization}}",
	},
	account.NoticeAdminRevoked: {
		Subject: "You are no longer an administrator of {{.Organization}}",
		Lead:    "{{.Actor}} changed your role in {{.Organization}} from {{.PreviousRole}} to {{.Role}}. You keep your access, but no longer manage the organization.",
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
<tr><td style="font-size:13px;color:#6b6b70;padding-bottom:16px">{{.Notice.Organization}}</td></tr>
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
	subject, lead, action *texttemplate.Template // text: subject and the text part
	leadHTML, actionHTML  *htmltemplate.Template // escaped for the HTML part
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
		r.copy[kind] = parsedCopy{
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
	footer := "Roster, for " + n.Organization + ". You get this email because your access in " +
		n.Organization + " changed. If you did not expect it, tell an administrator of " + n.Organization + "."
	text = run(func(w *bytes.Buffer) error {
		return r.text.Execute(w, map[string]any{"Notice": n, "Lead": wrapText(lead, 76), "Action": action,
			"Footer": wrapText(footer, 76)})
	})
	html = run(func(w *bytes.Buffer) error {
		return r.html.Execute(w, map[string]any{"Notice": n, "Subject": subject, "Footer": footer,
			"Lead": htmltemplate.HTML(leadHTML), "Action": htmltemplate.HTML(actionHTML)})
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
