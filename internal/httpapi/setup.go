package httpapi

import (
	"html/template"
	"net/http"

	"roster.dev/roster/internal/account"
)

// The setup page is what the one-time link printed at first start opens: a form that
// creates the first operator. It is the only HTML the API serves; the console
// (internal/console) serves the rest.
var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Set up Roster</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1c1c1e}
label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem;font:inherit;border:1px solid #8e8e93;border-radius:6px}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;border:0;border-radius:6px;background:#0a5cd5;color:#fff;cursor:pointer}
.error{background:#fdecea;border:1px solid #d93025;border-radius:6px;padding:.5rem 1rem}
.field-error{color:#b3261e;font-weight:400}
</style></head><body>
<h1>Set up Roster</h1>
{{if .Done}}
<p>The operator account <strong>{{.Email}}</strong> is ready. <a href="/login">Log in to the console</a> with it, or to the API:</p>
<pre>curl -X POST {{.Base}}/api/v1/auth/login -H 'Content-Type: application/json' \
  -d '{"email": "{{.Email}}", "password": "…"}'</pre>
{{else}}
<p>Create the first operator: the account that sets up partners, organizations and applications.</p>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="/setup/{{.Token}}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}">
{{with index .Fields "email"}}<span class="field-error">{{.}}</span>{{end}}
<label for="first_name">First name</label><input id="first_name" name="first_name" autocomplete="given-name" value="{{.FirstName}}">
<label for="last_name">Last name</label><input id="last_name" name="last_name" autocomplete="family-name" value="{{.LastName}}">
<label for="password">Password (at least 8 characters)</label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">
{{with index .Fields "password"}}<span class="field-error">{{.}}</span>{{end}}
<button type="submit">Create operator</button>
</form>
{{end}}
</body></html>
`))

type setupView struct {
	Done                       bool
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
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			v.Email, v.FirstName, v.LastName = r.PostFormValue("email"), r.PostFormValue("first_name"), r.PostFormValue("last_name")
			_, err := s.svc.CompleteSetup(r.Context(), account.SetupInput{Token: r.PathValue("token"),
				Email: v.Email, FirstName: v.FirstName, LastName: v.LastName, Password: r.PostFormValue("password")},
				s.clientIP(r.Context()))
			if err == nil {
				v.Done = true
			} else {
				p := problemFor(r.Context(), s.log, err)
				status, v.Error = p.Status, p.Detail
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
