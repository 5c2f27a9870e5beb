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

// bodyReadTimeout is huma's default time to read an operation's body.
const bodyReadTimeout = 5 * time.Second

// apiOwned says whether the API itself answers path (SCIM and the console run the
// same checks at their own edges, in their own error formats).
func apiOwned(path string) bool {
	for _, p := range []string{"/api/", "/setup/"} {
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
		if fault == nil && r.Body != nil && r.Body != http.NoBody && wellformed.IsJSON(r.Header.Get("Content-Type")) {
			// Read what the operation may accept (maxBody) and one byte more; a longer
			// body is passed on as it came, for the operation to refuse as too large.
			// The read has the deadline huma gives an operation's body; once read, the
			// body no longer needs one (huma sets its own before reading the copy).
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			_ = rc.SetReadDeadline(time.Time{})
			if err != nil {
				writeProblem(w, newProblem(r.Context(), http.StatusBadRequest, account.EINVALID, "the request body could not be read"))
				return
			}
			if len(b) <= maxBody {
				fault = wellformed.JSON(b)
				r.Body = io.NopCloser(bytes.NewReader(b))
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
