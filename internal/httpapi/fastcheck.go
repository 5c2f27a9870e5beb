package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2/queryparam"

	"roster.dev/roster/internal/httpedge"
)

// checkPattern is the route of the single check, as the mux names it (huma's
// registration in routes): the route its requests are logged and counted under.
const checkPattern = "GET /api/v1/check"

// fastCheck serves GET /api/v1/check, the hottest route by far, with a plain
// net/http handler instead of huma's generic path (which reflects over the input
// and output structs, negotiates and marshals through interfaces on every request).
// The operation stays registered with huma, which documents it in the OpenAPI
// document and still serves what this handler hands it: any other method, and a
// request whose Accept header would not negotiate to application/json (huma answers
// 406 or another format). What it answers is what huma answered, byte for byte:
// the same authentication (authenticate's application mode), the same query
// parameters (read as huma reads them, queryparam.Get), the same problems with the
// same headers, and the same body, huma's JSON encoding of checkOutput.Body.
func (s *Server) fastCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/check" || s.checkThroughHuma.Load() {
			next.ServeHTTP(w, r)
			return
		}
		if ct, err := s.api.Negotiate(r.Header.Get("Accept")); err != nil || ct != "application/json" {
			next.ServeHTTP(w, r)
			return
		}
		r.Pattern = checkPattern
		ctx := r.Context()
		token, ok := httpedge.Bearer(r.Header.Get("Authorization"))
		if p := bearerProblem(ctx, token, ok); p != nil {
			writeProblem(w, p)
			return
		}
		app, p := s.authenticateApplication(ctx, token)
		if p != nil {
			writeProblem(w, p)
			return
		}
		ctx = context.WithValue(ctx, appKey, app)
		q := r.URL.RawQuery
		allowed, reason, err := s.svc.Check(ctx, app, queryparam.Get(q, "organization"), queryparam.Get(q, "account"),
			queryparam.Get(q, "application"))
		if err != nil {
			writeOperationProblem(w, problemFor(ctx, s.log, err))
			return
		}
		s.metrics.ObserveCheck(reason)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(appendCheckAnswer(make([]byte, 0, 64), allowed, reason))
	})
}

// appendCheckAnswer appends {"allowed":…,"reason":"…"} and a newline, as huma's
// JSON format (an encoder without HTML escaping) writes checkOutput.Body.
func appendCheckAnswer(b []byte, allowed bool, reason string) []byte {
	if allowed {
		b = append(b, `{"allowed":true,"reason":`...)
	} else {
		b = append(b, `{"allowed":false,"reason":`...)
	}
	if plainJSONString(reason) {
		b = append(b, '"')
		b = append(b, reason...)
		b = append(b, '"')
	} else {
		q, _ := marshalNoEscapeHTML(reason)
		b = append(b, q[:len(q)-1]...) // without the encoder's newline
	}
	return append(b, "}\n"...)
}

// plainJSONString says whether s is written in JSON as itself between quotes (the
// reasons are: lower-case words joined by hyphens).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// writeOperationProblem writes p as huma writes an operation's error: the headers p
// asks for, application/problem+json, and huma's JSON encoding (no HTML escaping,
// unlike writeProblem's, which is the middlewares' and authenticate's).
func writeOperationProblem(w http.ResponseWriter, p *Problem) {
	h := w.Header()
	for k, vs := range p.GetHeaders() {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	b, _ := marshalNoEscapeHTML(p)
	_, _ = w.Write(b)
}

// marshalNoEscapeHTML is huma.DefaultJSONFormat's encoding of v, its newline included.
func marshalNoEscapeHTML(v any) ([]byte, error) {
	var buf jsonBuffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf, err
}

type jsonBuffer []byte

func (b *jsonBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// checkLogEvery is how often, at most, a 200 answer of GET /api/v1/check is logged.
// An application may check thousands of times a second: a line each cost the
// check an eighth of its throughput and floods the log with lines that say the
// same; the metrics count every check by route, status and reason
// (roster_http_requests_total, roster_checks_total). Every other answer of the
// check (a 401, 403, 422, 5xx…) is logged, each, as on every route.
const checkLogEvery = time.Second

// sampledLog lets one line through per period; the line says how many it held back
// since the previous one (skipped), so the log still shows the rate.
type sampledLog struct {
	every   time.Duration
	next    atomic.Int64 // when the next line may be written, in Unix nanoseconds
	skipped atomic.Int64
}

// take says whether the line of an answer at now is written, and if so how many
// were not since the last that was.
func (l *sampledLog) take(now time.Time) (skipped int64, ok bool) {
	n, due := now.UnixNano(), l.next.Load()
	if n < due || !l.next.CompareAndSwap(due, n+int64(l.every)) {
		l.skipped.Add(1)
		return 0, false
	}
	return l.skipped.Swap(0), true
}
