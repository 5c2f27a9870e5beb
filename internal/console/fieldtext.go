package console

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"roster.dev/roster/internal/account"
)

// fieldLabels name the domain's fields, as the API and the domain's errors spell
// them, the way the console's forms label them: every error a person reads is a
// sentence about a field they can see, never about an API name.
var fieldLabels = map[string]string{
	"accounts":                      "People",
	"account":                       "Person",
	"admin":                         "Administrator",
	"application":                   "Application",
	"applications":                  "Seat",
	"assign":                        "Seat",
	"current_password":              "Current password",
	"description":                   "Description",
	"email":                         "Email",
	"emails":                        "Email",
	"events":                        "Event selection",
	"ending_soon_days":              "Days before the end to warn",
	"ends_at":                       "End date",
	"file":                          "File",
	"first_name":                    "First name",
	"invitation_ttl_hours":          "Invitation lifetime",
	"invitations":                   "Invitation",
	"key":                           "Key",
	"kind":                          "Kind",
	"last_name":                     "Last name",
	"message":                       "Message",
	"required_profile_fields":       "Required fields",
	"name":                          "Name",
	"new_password":                  "New password",
	"note":                          "Note",
	"organization":                  "Organization",
	"parent":                        "Partner",
	"password":                      "Password",
	"password_confirm":              "Password again",
	"permissions":                   "Permission",
	"phone":                         "Phone number",
	"quantity":                      "Number of seats",
	"request_seats":                 "Seat request",
	"reset_password_on_first_login": "Password change on first login",
	"role":                          "Role",
	"seats":                         "Seats",
	"send_invite":                   "Invitation",
	"slug":                          "Slug",
	"starts_at":                     "Start date",
	"state":                         "Status",
	"status":                        "Status",
	"subscription":                  "Subscription",
	"team":                          "Team",
	"teams":                         "Team",
	"unassign":                      "Seat",
	"url":                           "URL",
	"user":                          "Person",
	"username":                      "Username",
}

// indexedField splits "emails[4]" into "emails" and 4 (-1 when not indexed); a
// nested name ("rows[2].email") keeps its last part.
var indexedField = regexp.MustCompile(`^([a-z_]+)\[(\d+)\]$`)

// formField is the form field a domain field's error belongs to, and its label:
// emails[4] is the fifth line of the emails field, "Email 5".
func formField(field string) (name, label string) {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	name, idx := field, -1
	if m := indexedField.FindStringSubmatch(field); m != nil {
		name = m[1]
		idx, _ = strconv.Atoi(m[2])
	}
	label = fieldLabels[name]
	if label == "" {
		label = capitalize(strings.ReplaceAll(name, "_", " "))
	}
	if idx >= 0 {
		label += " " + strconv.Itoa(idx+1)
	}
	return name, label
}

// apiName finds a field's API name (snake case) inside a message.
var apiName = regexp.MustCompile(`\b[a-z]+(?:_[a-z]+)+\b`)

// fieldSentence is one field error as a sentence: its label, then what is wrong, with
// any other field the message names by its label too ("End date must be after the
// start date.").
func fieldSentence(field, msg string) (name, sentence string) {
	name, label := formField(field)
	msg = strings.TrimSpace(msg)
	msg = apiName.ReplaceAllStringFunc(msg, func(s string) string {
		if l, ok := fieldLabels[s]; ok {
			return "the " + strings.ToLower(l)
		}
		return s
	})
	switch {
	case strings.HasPrefix(msg, "already "):
		msg = "is " + msg
	case msg == "no seat left":
		msg = "has no seat left"
	}
	if r, _ := utf8.DecodeRuneInString(msg); unicode.IsUpper(r) { // a sentence already
		return name, sentenceEnd(msg)
	}
	return name, sentenceEnd(label + " " + msg)
}

// sentenceEnd gives text a capital and a full stop.
func sentenceEnd(s string) string {
	s = capitalize(strings.TrimSpace(s))
	if s != "" && !strings.ContainsAny(s[len(s)-1:], ".!?") {
		s += "."
	}
	return s
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// addField records a field's error as a sentence, after any the field has already.
func (p *problem) addField(field, msg string) {
	name, s := fieldSentence(field, msg)
	if old, ok := p.Fields[name]; ok {
		if !strings.Contains(old, s) {
			p.Fields[name] = old + " " + s
		}
		return
	}
	p.Fields[name] = s
	p.Order = append(p.Order, name)
}

// summary are the field errors the banner lists under its message: all of them,
// but for one that only repeats the message.
func (p *problem) summary() []string {
	var out []string
	for _, s := range p.sentences() {
		if !strings.EqualFold(s, sentenceEnd(p.Message)) {
			out = append(out, s)
		}
	}
	return out
}

// sentences are the problem's field errors, in the order the domain gave them.
func (p *problem) sentences() []string {
	if p == nil {
		return nil
	}
	out := make([]string, 0, len(p.Order))
	for _, k := range p.Order {
		out = append(out, p.Fields[k])
	}
	return out
}

// errorText is a domain error as sentences a person reads: every field's error,
// or its message when it names none.
func errorText(err error) string {
	e, ok := err.(*account.Error)
	if !ok || len(e.Fields) == 0 {
		return sentenceEnd(account.ErrorMessage(err))
	}
	if e.Code == account.EQUOTAEXCEEDED { // its message names the application; its field, a position
		return sentenceEnd(e.Message)
	}
	p := &problem{Fields: map[string]string{}}
	for _, f := range e.Fields {
		p.addField(f.Field, f.Message)
	}
	return strings.Join(p.sentences(), " ")
}

// setField puts sentence as the error of form field name, in place of any other.
func (p *problem) setField(name, sentence string) {
	if _, ok := p.Fields[name]; !ok {
		p.Order = append(p.Order, name)
	}
	p.Fields[name] = sentence
}

// optional reports whether a field not required by the form shows "(optional)":
// not when its error says it is required.
func (p *problem) optional(name string) bool {
	return !strings.Contains(p.field(name), "is required")
}

// resultText is the error of one entry of a list whose entry is shown beside it
// (an invitation to an address): the entry's error without its position.
func resultText(err error) string {
	return listPosition.ReplaceAllString(errorText(err), "The address ")
}

var listPosition = regexp.MustCompile(`^Email \d+ `)
