package httpapi

import (
	"html/template"
	"net/http"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

// The setup page is what the one-time link printed at first start opens: a form that
// creates the first operator. It is the only HTML the API serves; the console
// (internal/console) serves the rest.
var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Gone}}Setup link used or unknown{{else}}Set up Roster{{end}} · Roster</title>
<style>
:root{--ink:#1d1f23;--muted:#5d6470;--line:#dfe3e8;--bg:#f6f7f9;--card:#fff;--accent:#2454d6;--danger:#b42318;--danger-soft:#fdecea;--focus-ring:#1a44b8}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:var(--card);border-bottom:1px solid var(--line);padding:.75rem 1.25rem;font-weight:700}
main{max-width:30rem;margin:2.5rem auto;padding:0 1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 .75rem}
p{margin:.5rem 0}
a{color:var(--accent)}
.muted{color:var(--muted)}
.field{margin-top:1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
label small{font-weight:400;color:var(--muted)}
input{display:block;width:100%;padding:.55rem .65rem;font:inherit;color:inherit;background:var(--card);border:1px solid #8c95a3;border-radius:6px}
input[aria-invalid=true]{border-color:var(--danger)}
button,.button{display:inline-block;margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;font-weight:600;border:1px solid var(--accent);border-radius:6px;background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
:focus-visible{outline:3px solid var(--focus-ring);outline-offset:2px}
.alert{background:var(--danger-soft);border:1px solid #f1aeb5;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.field-error{display:block;color:var(--danger);margin-top:.25rem}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.75rem;overflow-x:auto;font-size:.85rem}
</style></head><body>
<header>Roster</header>
<main id="main"><section class="card">
{{if .Gone}}
<h1>This setup link is used or unknown</h1>
<p>{{.Error}}</p>
<p>A setup link works once, until it expires. If Roster has its operator, <a href="/login">log in to the console</a>.
Otherwise restart Roster with no operator: it prints a new setup link in its log.</p>
<a class="button" href="/login">Go to the login page</a>
{{else if .Done}}
<h1>Roster is set up</h1>
<p>The operator account <strong>{{.Email}}</strong> is ready. <a href="/login">Log in to the console</a> with it, or to the API:</p>
<pre>curl -X POST {{.Base}}/api/v1/auth/login -H 'Content-Type: application/json' \
  -d '{"email": "{{.Email}}", "password": "…"}'</pre>
<a class="button" href="/login">Log in</a>
{{else}}
<h1>Set up Roster</h1>
<p class="muted">Create the first operator: the account that sets up partners, organizations and applications.</p>
{{with .Error}}<div class="alert" role="alert"><p>{{.}}</p></div>{{end}}
<form method="post" action="/setup/{{.Token}}">
<div class="field"><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}"{{with index .Fields "email"}} aria-invalid="true" aria-describedby="e-email"{{end}}>
{{with index .Fields "email"}}<span class="field-error" id="e-email">{{.}}</span>{{end}}</div>
<div class="field"><label for="first_name">First name <small>(optional)</small></label><input id="first_name" name="first_name" autocomplete="given-name" value="{{.FirstName}}"></div>
<div class="field"><label for="last_name">Last name <small>(optional)</small></label><input id="last_name" name="last_name" autocomplete="family-name" value="{{.LastName}}"></div>
<div class="field"><label for="password">Password <small>(at least 8 characters)</small></label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="8"{{with index .Fields "password"}} aria-invalid="true" aria-describedby="e-password"{{end}}>
{{with index .Fields "password"}}<span class="field-error" id="e-password">{{.}}</span>{{end}}</div>
<button type="submit">Create operator</button>
</form>
{{end}}
</section></main>
</body></html>
`))

type setupView struct {
	Done                       bool
	Gone                       bool   // the link is used, unknown or expired, or Roster is set up
	Token                      string // well-formed: letters, digits, "-" and "_"
	Base                       string
	Email, FirstName, LastName string
	Error                      string
	Fields                     map[string]string
}

// setupHandler serves GET and POST /setup/{token}. Its POST is guarded by
// http.CrossOriginProtection like every form.
func (s *Server) setupHandler() http.Handler {
	cop := http.NewCrossOriginProtection()
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A path that is no setup token (an escaped slash, a dot segment, anything
		// but the generator's alphabet and length) is not this page.
		if !account.WellFormedToken(account.SetupTokenPrefix, r.PathValue("token")) {
			http.NotFound(w, r)
			return
		}
		v := setupView{Base: s.baseURL, Token: r.PathValue("token"), Fields: map[string]string{}}
		status := http.StatusOK
		if r.Method == http.MethodGet {
			if err := s.svc.CheckSetup(r.Context(), v.Token); err != nil {
				p := problemFor(r.Context(), s.log, err)
				status, v.Error = p.Status, p.Detail
				if c := account.ErrorCode(err); c == account.EINVALIDTOKEN || c == account.ECONFLICT {
					v.Gone, v.Error = true, setupGone(err, p)
				}
			}
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			v.Email, v.FirstName, v.LastName = r.PostFormValue("email"), r.PostFormValue("first_name"), r.PostFormValue("last_name")
			_, err := s.svc.CompleteSetup(r.Context(), account.SetupInput{Token: r.PathValue("token"),
				Email: v.Email, FirstName: v.FirstName, LastName: v.LastName, Password: r.PostFormValue("password")},
				httpedge.ClientIP(r.Context()))
			if err == nil {
				v.Done = true
			} else {
				p := problemFor(r.Context(), s.log, err)
				status, v.Error = p.Status, p.Detail
				if c := account.ErrorCode(err); c == account.EINVALIDTOKEN || c == account.ECONFLICT {
					v.Gone, v.Error = true, setupGone(err, p)
				}
				for _, f := range p.Errors {
					v.Fields[f.Field] = f.Message
				}
			}
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		w.WriteHeader(status)
		if err := setupPage.Execute(w, v); err != nil {
			s.log.ErrorContext(r.Context(), "render setup page", "err", err)
		}
	}))
}

// setupGone says why a setup link opens no form, as a sentence.
func setupGone(err error, p *Problem) string {
	switch account.ErrorCode(err) {
	case account.ECONFLICT:
		return "Roster is set up already: it has its operator."
	case account.EINVALIDTOKEN:
		return "This link was used already, has expired, or was never issued."
	}
	return p.Detail
}
