package httpapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// badText is what TestMalformedTextEveryOperation puts in every place the API reads
// text: a NUL (PostgreSQL cannot store it) and a byte that is not UTF-8.
var badText = []struct{ name, value string }{
	{"NUL", "a\x00b"},
	{"invalid UTF-8", "a\xffb"},
}

// marker stands for a bad value inside a JSON body until the body is encoded: raw
// bytes, since encoding/json would escape a NUL and replace \xff with U+FFFD.
const marker = "\u2603MALFORMED\u2603"

// jsonBodies returns body encoded with marker replaced by each malformed form: an
// escaped NUL, a raw NUL, a raw \xff and a lone surrogate escape.
func jsonBodies(t *testing.T, body any) map[string][]byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for name, with := range map[string]string{
		"escaped NUL": `a\u0000b`, "raw NUL": "a\x00b", "raw \\xff": "a\xffb", "lone surrogate": `a\ud800b`,
	} {
		out[name] = bytes.ReplaceAll(b, []byte(marker), []byte(with))
	}
	return out
}

// stringLeaves lists the paths ("email", "teams[0]", "user.name") of the strings of
// a decoded JSON value, named as the API names fields, with a setter for each.
func stringLeaves(v any, path string, set func(any), out map[string]func(any)) {
	switch x := v.(type) {
	case string:
		out[path] = set
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			stringLeaves(e, p, func(nv any) { x[k] = nv }, out)
		}
	case []any:
		for i, e := range x {
			stringLeaves(e, path+"["+itoa(i)+"]", func(nv any) { x[i] = nv }, out)
		}
	}
}

func itoa(i int) string { return jsonNumber(i) }

func jsonNumber(i int) string { b, _ := json.Marshal(i); return string(b) }

// clone deep-copies a JSON-shaped value.
func clone(t *testing.T, v any) any {
	t.Helper()
	if v == nil {
		return map[string]any{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

type docOp struct {
	params []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	}
	bodyProps map[string]string // top-level property → "string" or "array" (of strings)
	hasBody   bool
}

// docOps reads each operation's parameters and its JSON body's string properties
// from the OpenAPI document.
func docOps(t *testing.T, e *env) map[string]docOp {
	type schema struct {
		Ref        string             `json:"$ref"`
		Type       any                `json:"type"`
		Properties map[string]*schema `json:"properties"`
		Items      *schema            `json:"items"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody *struct {
				Content map[string]struct {
					Schema *schema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]*schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(e.call("", "GET", "/api/v1/openapi.json", nil).Raw), &doc); err != nil {
		t.Fatal(err)
	}
	resolve := func(s *schema) *schema {
		if s != nil && s.Ref != "" {
			return doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		}
		return s
	}
	isType := func(s *schema, want string) bool {
		switch ty := s.Type.(type) {
		case string:
			return ty == want
		case []any:
			for _, x := range ty {
				if x == want {
					return true
				}
			}
		}
		return false
	}
	out := map[string]docOp{}
	for _, byMethod := range doc.Paths {
		for _, op := range byMethod {
			d := docOp{params: op.Parameters, bodyProps: map[string]string{}}
			if op.RequestBody != nil {
				if c, ok := op.RequestBody.Content["application/json"]; ok {
					d.hasBody = true
					if s := resolve(c.Schema); s != nil {
						for name, p := range s.Properties {
							p = resolve(p)
							switch {
							case isType(p, "string"):
								d.bodyProps[name] = "string"
							case isType(p, "array") && p.Items != nil && isType(resolve(p.Items), "string"):
								d.bodyProps[name] = "array"
							}
						}
					}
				}
			}
			out[op.OperationID] = d
		}
	}
	return out
}

// TestMalformedTextEveryOperation sends a NUL and invalid UTF-8 in every path
// parameter, every query parameter and every string of the JSON body (each string of
// the matrix's valid body, nested ones too, and each string property of the body's
// schema) of every operation of the OpenAPI document, as a caller allowed to call it,
// and wants 422 naming the field every time; a malformed bearer token is 401 on
// every operation that takes one. On both engines.
func TestMalformedTextEveryOperation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		e := w.e
		docs := docOps(t, e)
		calls := 0
		filled := map[string]string{} // op id → its path, for the bearer token round
		want422 := func(what, method, path string, r resp, field string) {
			t.Helper()
			calls++
			if r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %s %q = %d, want 422\n%s", what, method, path, r.Status, truncateBody(r.Raw))
				return
			}
			errs, _ := r.Body["errors"].([]any)
			if len(errs) == 0 {
				t.Errorf("%s: %s %q: 422 without errors\n%s", what, method, path, r.Raw)
				return
			}
			if got := errs[0].(map[string]any)["field"]; got != field {
				t.Errorf("%s: %s %q: field %v, want %q\n%s", what, method, path, got, field, r.Raw)
			}
		}
		for _, op := range operations(t, e) {
			if _, skip := notInMatrix[op.id]; skip {
				continue
			}
			r, ok := matrixRoutes[op.id]
			if !ok {
				t.Errorf("%s has no entry in matrixRoutes", op.id)
				continue
			}
			var caller *who
			for _, p := range w.callers {
				if r.rule(p) == allowed {
					caller = p
					break
				}
			}
			if caller == nil {
				t.Errorf("%s: no caller of the matrix may call it", op.id)
				continue
			}
			c := call{body: r.body, query: r.query}
			if r.fresh != nil {
				f := r.fresh(w, caller)
				c.params, c.token = f.params, f.token
				if f.body != nil {
					c.body = f.body
				}
				if f.query != "" {
					c.query = f.query
				}
			}
			token := caller.token
			if c.token != "" {
				token = c.token
			}
			d := docs[op.id]
			validBody := func() any {
				if !d.hasBody {
					return nil
				}
				return clone(t, c.body)
			}
			withQuery := func(path, extra string) string {
				q := c.query
				if extra != "" {
					if q != "" {
						q += "&"
					}
					q += extra
				}
				if q != "" {
					return path + "?" + q
				}
				return path
			}
			send := func(path string, body any) resp {
				if b, ok := body.([]byte); ok {
					return e.call(token, op.method, path, string(b))
				}
				return e.call(token, op.method, path, body)
			}
			for _, bad := range badText {
				// Path parameters.
				for _, p := range d.params {
					if p.In != "path" {
						continue
					}
					params := map[string]string{}
					for k, v := range c.params {
						params[k] = v
					}
					params[p.Name] = bad.value
					path, ok := w.path(t, op.id, op.path, call{params: params})
					if !ok {
						break
					}
					path = withQuery(path, "")
					want422(op.id+": "+bad.name+" in path {"+p.Name+"}", op.method, path, send(path, validBody()), p.Name)
				}
				base, ok := w.path(t, op.id, op.path, c)
				if !ok {
					continue
				}
				// Query parameters: each of the document's, and q on every operation.
				names := []string{"q"}
				for _, p := range d.params {
					if p.In == "query" && p.Name != "q" {
						names = append(names, p.Name)
					}
				}
				for _, name := range names {
					path := withQuery(base, url.QueryEscape(name)+"="+url.QueryEscape(bad.value))
					want422(op.id+": "+bad.name+" in query "+name, op.method, path, send(path, validBody()), name)
				}
			}
			basePath, ok := w.path(t, op.id, op.path, c)
			if !ok {
				continue
			}
			filled[op.id] = basePath
			if !d.hasBody {
				continue
			}
			// Body: every string of the valid body, then every string property of the
			// schema that the valid body leaves out.
			path := withQuery(basePath, "")
			leaves := map[string]func(any){}
			probe := clone(t, c.body)
			stringLeaves(probe, "", nil, leaves)
			fields := make([]string, 0, len(leaves))
			for f := range leaves {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			for _, field := range fields {
				body := clone(t, c.body)
				sets := map[string]func(any){}
				stringLeaves(body, "", nil, sets)
				sets[field](marker)
				for form, b := range jsonBodies(t, body) {
					want422(op.id+": "+form+" in body "+field, op.method, path, send(path, b), field)
				}
			}
			for name, kind := range d.bodyProps {
				if _, done := leaves[name]; done {
					continue
				}
				body, _ := clone(t, c.body).(map[string]any)
				if body == nil {
					continue
				}
				field := name
				if kind == "array" {
					body[name] = []any{marker}
					field = name + "[0]"
				} else {
					body[name] = marker
				}
				for form, b := range jsonBodies(t, body) {
					want422(op.id+": "+form+" in body "+field, op.method, path, send(path, b), field)
				}
			}
		}
		// A bearer token that is not text: 401 wherever a token is read. Sent straight
		// to the handler, since Go's HTTP client refuses a NUL in a header.
		for _, op := range operations(t, e) {
			r := matrixRoutes[op.id]
			if r.rule == nil || r.rule(&who{kind: anonymous}) == allowed {
				continue // public: a credential sent along is ignored
			}
			path, ok := filled[op.id]
			if !ok {
				continue
			}
			for _, bad := range badText {
				req := httptest.NewRequest(op.method, path, nil)
				req.Header.Set("Authorization", "Bearer "+w.callers[0].token+bad.value)
				rec := httptest.NewRecorder()
				e.api.ServeHTTP(rec, req)
				calls++
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("%s %s with a %s bearer token = %d, want 401\n%s", op.method, path, bad.name, rec.Code, truncateBody(rec.Body.String()))
				}
			}
		}
		if calls < 500 {
			t.Errorf("only %d calls made", calls)
		}
		t.Logf("%d calls", calls)
	})
}

// TestMalformedTextNamesTheField: the places the issue found a 500 on PostgreSQL,
// each a 422 problem naming the field on both engines, and nothing stored.
func TestMalformedTextNamesTheField(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.member(e.op, "acme", "ann@acme.example", "admin")
		// A cursor whose base64 hides a NUL passes every edge check: the use case
		// refuses it.
		hidden := base64.RawURLEncoding.EncodeToString([]byte("k:1:a\x00b"))
		for _, bad := range badText {
			esc := url.QueryEscape(bad.value)
			cases := []struct {
				name, method, path string
				body               any
				field              string
			}{
				{"login email", "POST", "/api/v1/auth/login", jsonWith(t, map[string]any{"email": marker, "password": pw}, bad.value), "email"},
				{"search q", "GET", "/api/v1/organizations/acme/members?q=" + esc, nil, "q"},
				{"organization search q", "GET", "/api/v1/organizations?q=" + esc, nil, "q"},
				{"filter", "GET", "/api/v1/organizations/acme/members?team=" + esc, nil, "team"},
				{"path id", "GET", "/api/v1/organizations/acme/members/" + url.PathEscape(bad.value), nil, "account"},
				{"path org", "GET", "/api/v1/organizations/" + url.PathEscape(bad.value) + "/members", nil, "org"},
				{"cursor", "GET", "/api/v1/organizations/acme/members?cursor=" + esc, nil, "cursor"},
				{"join-request message", "POST", "/api/v1/organizations/acme/join-requests", jsonWith(t, map[string]any{"message": marker}, bad.value), "message"},
				{"nested body field", "POST", "/api/v1/organizations/acme/members", jsonWith(t, map[string]any{"email": "zed@acme.example", "role": "member", "teams": []any{"ok", marker}}, bad.value), "teams[1]"},
			}
			for _, c := range cases {
				token := e.op
				if c.name == "join-request message" {
					token = e.login("ann@acme.example", pw)
					e.must(201, e.op, "POST", "/api/v1/organizations", map[string]any{"name": "Open", "slug": "open-" + strings.ToLower(bad.name[:3]), "kind": "organization"})
					c.path = "/api/v1/organizations/open-" + strings.ToLower(bad.name[:3]) + "/join-requests"
				}
				r := e.call(token, c.method, c.path, c.body)
				t.Run(bad.name+" in "+c.name, func(t *testing.T) {
					problem(t, r, http.StatusUnprocessableEntity, account.EINVALID, c.field)
				})
			}
		}
		// A User-Agent is a label, not a field: a login with one that is not UTF-8
		// (or that is cut inside a character) logs in.
		for _, ua := range []string{"Mozilla\xff", strings.Repeat("é", 200)} {
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/auth/login", strings.NewReader(`{"email":"ann@acme.example","password":"`+pw+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", ua)
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("login with the User-Agent %.20q = %d, want 200", ua, res.StatusCode)
			}
		}
		// The setup page's form (a store without an operator shows it; here the
		// check answers before the page looks).
		for _, bad := range badText {
			res, err := e.srv.Client().PostForm(e.srv.URL+"/setup/setup_x", url.Values{"email": {bad.value}, "password": {pw}})
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			errs, _ := body["errors"].([]any)
			if res.StatusCode != 422 || len(errs) == 0 || errs[0].(map[string]any)["field"] != "email" {
				t.Errorf("setup form with %s = %d %v, want 422 on email", bad.name, res.StatusCode, body)
			}
		}
		for _, path := range []string{"/api/v1/organizations/acme/members?cursor=" + hidden, "/api/v1/organizations?cursor=" + hidden} {
			problem(t, e.call(e.op, "GET", path, nil), http.StatusUnprocessableEntity, account.EINVALID, "cursor")
		}
		// Nothing was stored: no join request, no member zed.
		if list := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members?q=zed", nil); len(list["items"].([]any)) != 0 {
			t.Errorf("a member was added: %v", list)
		}
	})
}

// jsonWith encodes body with marker replaced by the raw bytes of bad.
func jsonWith(t *testing.T, body any, bad string) string {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.ReplaceAll(b, []byte(marker), []byte(bad)))
}

// TestImportMalformedCells: an import cell with a NUL or invalid UTF-8 rejects its
// row, naming the column, and the other rows apply; the report of rejected rows
// downloads; a file name that is not UTF-8 is kept as a label (a NUL in it is
// refused by the multipart reader already). A workbook cannot hold such a cell (its
// XML would not parse): it is refused whole, never a 500. On both engines.
func TestImportMalformedCells(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		var b strings.Builder
		for _, r := range [][]string{
			{"email", "first_name", "last_name", "notes"},
			// Row 2 pushes the rest past the head a CSV file is recognised by (a NUL
			// there makes it no CSV file at all: 422 on file).
			{"first@acme.test", "First", "Fine", strings.Repeat("x", 600)},
			{"a\x00b@acme.test", "A", "B", ""},   // row 3
			{"c@acme.test", "C\xffd", "D", ""},   // row 4
			{"e@acme.test", "E", "F", "n\x00te"}, // row 5: an unmapped column
			{"ok@acme.test", "Ok", "Fine", ""},   // row 6
		} {
			b.WriteString(strings.Join(r, ",") + "\r\n")
		}
		job := e.must(202, e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "pe\xffople.csv", content: []byte(b.String())})
		e.runImports()
		got := e.must(200, e.op, "GET", "/api/v1/organizations/acme/imports/"+job["id"].(string), nil)
		if got["state"] != "done" || got["created"].(float64)+got["invited"].(float64) != 2 || got["failed"] != 3.0 {
			t.Errorf("job = %v", got)
		}
		var errs []string
		for _, x := range got["errors"].([]any) {
			m := x.(map[string]any)
			errs = append(errs, fmt.Sprintf("%v %v: %v", m["row"], m["field"], m["message"]))
		}
		want := []string{"3 email: must not contain a NUL character", "4 first_name: is not UTF-8 text (save the file as CSV UTF-8)",
			"5 file: column D must not contain a NUL character"}
		if !slices.Equal(errs, want) {
			t.Errorf("errors = %q, want %q", errs, want)
		}
		if name, _ := got["file_name"].(string); name != "pe\uFFFDople.csv" {
			t.Errorf("file_name = %q", name)
		}
		if rep := e.call(e.op, "GET", "/api/v1/organizations/acme/imports/"+job["id"].(string)+"/errors.xlsx", nil); rep.Status != 200 {
			t.Errorf("report = %d %s", rep.Status, rep.Raw)
		}

		// A workbook whose shared strings hold a raw NUL or \xff.
		for _, bad := range []string{"\x00", "\xff"} {
			file := rezip(t, xlsxFile(t, [][]string{{"email", "first_name", "last_name"}, {"x" + marker + "@acme.test", "X", "Y"}}), bad)
			r := e.call(e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.xlsx", content: file})
			if r.Status >= 500 {
				t.Fatalf("upload of a workbook with %q = %d\n%s", bad, r.Status, r.Raw)
			}
			if r.Status == 202 {
				e.runImports()
				got := e.must(200, e.op, "GET", "/api/v1/organizations/acme/imports/"+r.Body["id"].(string), nil)
				if got["created"] != 0.0 || got["invited"] != 0.0 {
					t.Errorf("a workbook with %q imported: %v", bad, got)
				}
			} else {
				problem(t, r, http.StatusUnprocessableEntity, account.EINVALID, "file")
			}
		}
	})
}

// rezip replaces marker with bad in every part of a zip archive.
func rezip(t *testing.T, in []byte, bad string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(bytes.ReplaceAll(body, []byte(marker), []byte(bad)))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
