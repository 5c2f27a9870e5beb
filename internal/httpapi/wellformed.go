package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/wellformed"
)

// bodyReadTimeout is the time to read an operation's body (huma's default); a
// variable for tests.
var bodyReadTimeout = 5 * time.Second

// apiOwned says whether the API itself answers path (SCIM and the console run the
// same checks at their own edges, in their own error formats).
func apiOwned(path string) bool {
	for _, p := range []string{"/api/", "/setup/", "/oauth/", "/.well-known/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// wellFormed refuses, before routing to an operation, a NUL character or invalid
// UTF-8 anywhere the API reads text: 422 naming the path parameter, the query
// parameter or the body's field. (A bearer token that is not text is 401, in
// authenticate: only operations that take credentials read it.) The check is
// syntactic and reads no store, so answering it before authentication reveals
// nothing.
func (s *Server) wellFormed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !apiOwned(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		fault := wellformed.Path(r, "")
		if fault != nil {
			_, pattern := s.mux.Handler(r)
			fault = wellformed.Path(r, pattern)
		}
		if fault == nil {
			fault = wellformed.Query(r)
		}
		ctype := r.Header.Get("Content-Type")
		var buffered []byte // the body, when it was read here whole
		if fault == nil && r.Body != nil && r.Body != http.NoBody && !isMultipart(ctype) {
			// Read what the operation may accept (maxBody) and one byte more; a longer
			// body is passed on as it came, for the operation to refuse as too large.
			// The read has the deadline huma would give an operation's body; once read,
			// the body needs none, and the deadline is lifted: left in place, it would
			// end the request's context when net/http's background read of the
			// connection reaches it, cancelling any answer that takes longer (the
			// operations take no deadline of their own: op's BodyReadTimeout). An
			// upload (multipart) is read by its operation, under its own deadline.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			_ = rc.SetReadDeadline(time.Time{})
			if err != nil {
				writeProblem(w, newProblem(r.Context(), http.StatusBadRequest, account.EINVALID, "the request body could not be read"))
				return
			}
			if len(b) <= maxBody {
				if wellformed.IsJSON(ctype) {
					fault = wellformed.JSON(b)
				}
				r.Body, buffered = io.NopCloser(bytes.NewReader(b)), b
			} else {
				r.Body = struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
			}
		}
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); fault == nil && r.Method == http.MethodPost &&
			strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
			// The setup page's form.
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if err := r.ParseForm(); err == nil {
				fault = wellformed.Values(r.PostForm)
			}
			if buffered != nil {
				// What reads the body next (an operation, which answers 415 to a form)
				// reads it as sent; the setup page reads the parsed r.PostForm.
				r.Body = io.NopCloser(bytes.NewReader(buffered))
			}
		}
		if fault != nil {
			p := newProblem(r.Context(), http.StatusUnprocessableEntity, account.EINVALID, "validation failed")
			p.Errors = []account.FieldError{{Field: fault.Field, Message: fault.Message}}
			writeProblem(w, p)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isMultipart says whether a Content-Type is multipart/form-data (an upload).
func isMultipart(ctype string) bool {
	ct, _, _ := strings.Cut(ctype, ";")
	return strings.EqualFold(strings.TrimSpace(ct), "multipart/form-data")
}
