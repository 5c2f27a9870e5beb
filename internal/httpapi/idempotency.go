package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"roster.dev/roster/internal/account"
)

// The Idempotency-Key request header (IETF httpapi draft "The Idempotency-Key HTTP
// Header Field") on every POST of the API. The first request with a key runs; a
// retry from the same caller (the account of the session, or the application of the
// API key; "anonymous" on public operations) with the same method, path and body
// gets the first answer again (status, body, Content-Type, Location) with
// Idempotent-Replayed: true, and changes nothing. A key is kept 24 hours from its
// first request (account.IdempotencyTTL). What is kept: every answer but a server
// error (5xx) and 429, which say nothing of the request itself: a retry of those
// runs afresh. The draft asks a retry to get "the result of the previously completed
// operation, success or an error", so a 4xx answer is kept and replayed: correct the
// request, and send it with a new key.
const idempotencyHeader = "Idempotency-Key"

// idempotencyKeyParam documents the header in the OpenAPI document, on every POST.
var idempotencyKeyParam = &huma.Param{
	Name: idempotencyHeader, In: "header",
	Description: "A key of the client's choosing, unique per request (a UUID, quoted as the IETF draft's sf-string or bare): " +
		"a retry with the same key, from the same caller, of the same method, path and body gets the first answer again " +
		"(with Idempotent-Replayed: true) and changes nothing. 1 to 255 printable ASCII characters; kept 24 hours. " +
		"The same key with another request is 422 idempotency-key-reused; while the first request runs, 409 idempotency-key-in-flight. " +
		"Server errors (5xx) and 429 are not kept: a retry runs afresh.",
	Schema: &huma.Schema{Type: "string", MinLength: ptr(1), MaxLength: ptr(maxIdempotencyKey + 2)},
}

func ptr[T any](v T) *T { return &v }

// maxIdempotencyKey bounds a key's length, as the draft's implementers do.
const maxIdempotencyKey = 255

type fingerprintKey struct{}

// idempotencyBody fingerprints the request of a POST that names an Idempotency-Key,
// before routing: a SHA-256 of its method, path, query and body (for an upload, of
// its parts' names, file names, types and contents, not of the multipart boundary
// each client draws anew). The body is read whole (wellFormed has read a JSON body
// already; an upload is bounded by limitUpload) and passed on as it was. A body
// larger than any operation accepts gets no fingerprint: its operation refuses it.
func (s *Server) idempotencyBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/api/") || len(r.Header.Values(idempotencyHeader)) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			ctype := r.Header.Get("Content-Type")
			limit := int64(maxBody)
			if isMultipart(ctype) {
				limit = s.maxUpload + 64<<10
				rc := http.NewResponseController(w)
				_ = rc.SetReadDeadline(time.Now().Add(2 * time.Minute))
				defer rc.SetReadDeadline(time.Time{})
			}
			b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge) || err == nil && int64(len(b)) > limit:
				// Passed on as it came: the operation answers it as too large.
				r.Body = struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
				next.ServeHTTP(w, r)
				return
			case err != nil:
				writeProblem(w, newProblem(r.Context(), http.StatusBadRequest, account.EINVALID, "the request body could not be read"))
				return
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		fp := fingerprint(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), body)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), fingerprintKey{}, fp)))
	})
}

// fingerprint identifies a request among those that name one key.
func fingerprint(method, path, query, ctype string, body []byte) []byte {
	h := sha256.New()
	for _, part := range []string{method, path, query} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	writeBodyFingerprint(h, ctype, body)
	return h.Sum(nil)
}

// writeBodyFingerprint writes what identifies body to h: the bytes as sent, or for a
// multipart form each part's name, file name, type and content.
func writeBodyFingerprint(h io.Writer, ctype string, body []byte) {
	if isMultipart(ctype) {
		if _, params, err := mime.ParseMediaType(ctype); err == nil && params["boundary"] != "" {
			var parts bytes.Buffer
			mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					h.Write([]byte("multipart\x00"))
					h.Write(parts.Bytes())
					return
				}
				if err != nil {
					break // not a well-formed form: the bytes identify it
				}
				content, err := io.ReadAll(p)
				if err != nil {
					break
				}
				sum := sha256.Sum256(content)
				for _, f := range []string{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(sum[:])} {
					parts.WriteString(f)
					parts.WriteByte(0)
				}
			}
		}
	}
	h.Write([]byte("body\x00"))
	h.Write(body)
}

// parseIdempotencyKey reads the header's values: one sf-string (RFC 8941 §3.3.3:
// "…" of printable ASCII, with \" and \\ escaped), as the draft specifies; a bare key
// of visible ASCII is taken too, as most clients send one. The key has 1 to 255
// characters.
func parseIdempotencyKey(values []string) (string, string) {
	if len(values) != 1 {
		return "", "send one Idempotency-Key header, not several"
	}
	v := strings.TrimSpace(values[0])
	var key strings.Builder
	if strings.HasPrefix(v, `"`) {
		if len(v) < 2 || !strings.HasSuffix(v, `"`) {
			return "", `must be a quoted string ("…") or a bare key of visible ASCII characters`
		}
		inner := v[1 : len(v)-1]
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			switch {
			case c == '\\':
				if i+1 >= len(inner) || inner[i+1] != '"' && inner[i+1] != '\\' {
					return "", `in a quoted key, a backslash escapes only " or \`
				}
				i++
				key.WriteByte(inner[i])
			case c == '"':
				return "", `in a quoted key, a " must be escaped as \"`
			case c < 0x20 || c > 0x7e:
				return "", "may hold printable ASCII characters only"
			default:
				key.WriteByte(c)
			}
		}
	} else {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c <= 0x20 || c > 0x7e {
				return "", "may hold visible ASCII characters only (quote a key with spaces)"
			}
		}
		key.WriteString(v)
	}
	switch k := key.String(); {
	case k == "":
		return "", "must not be empty"
	case len(k) > maxIdempotencyKey:
		return "", "must be at most 255 characters"
	default:
		return k, ""
	}
}

// idempotencyProblem is a problem of the Idempotency-Key header.
func idempotencyProblem(ctx context.Context, status int, slug, detail, message string) *Problem {
	p := newProblem(ctx, status, slug, detail)
	p.Errors = []account.FieldError{{Field: idempotencyHeader, Message: message}}
	return p
}

// callerOf names the principal a request is authenticated as, which scopes its keys.
func callerOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey).(account.Actor); ok && a.Account.ID != "" {
		return "account:" + a.Account.ID
	}
	if a, ok := ctx.Value(appKey).(account.AppActor); ok && a.Application.ID != "" {
		return "application:" + a.Application.ID
	}
	return "anonymous"
}

// storedAnswer is an answer as kept for its replays.
type storedAnswer struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    []byte            `json:"body,omitempty"`
}

// replayedHeaders are the headers of an answer kept with it.
var replayedHeaders = []string{"Content-Type", "Location", "Content-Disposition"}

// keepAnswer says whether an answer of this status is kept for retries: not a
// server error (the request may not have run; the client may try again), nor a 429
// (the request did not run; Retry-After says when it may), nor the 499 of a request
// its client gave up on (the retry that follows is the one to answer).
func keepAnswer(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, statusClientClosed:
		return false
	}
	return status < 500
}

// statusClientClosed is the status of a request cancelled by its client (problemFor).
const statusClientClosed = 499

// idempotent is the huma middleware of the Idempotency-Key header; it runs after
// authenticate, so keys are the authenticated caller's and a request without valid
// credentials is refused before its key is looked at.
func (s *Server) idempotent(hctx huma.Context, next func(huma.Context)) {
	if hctx.Operation().Method != http.MethodPost {
		next(hctx)
		return
	}
	var values []string
	hctx.EachHeader(func(name, value string) {
		if strings.EqualFold(name, idempotencyHeader) {
			values = append(values, value)
		}
	})
	if len(values) == 0 {
		next(hctx)
		return
	}
	ctx := hctx.Context()
	key, bad := parseIdempotencyKey(values)
	if bad != "" {
		s.writeHuma(hctx, idempotencyProblem(ctx, http.StatusBadRequest, account.EINVALID,
			"the Idempotency-Key header is not valid", bad))
		return
	}
	fp, ok := ctx.Value(fingerprintKey{}).([]byte)
	if !ok {
		next(hctx) // a body too large to take: the operation refuses it
		return
	}
	res, outcome, answer, err := s.svc.ReserveIdempotency(ctx, account.IdempotentRequest{
		Caller: callerOf(ctx), Key: key, Fingerprint: fp})
	if err != nil {
		s.writeHuma(hctx, problemFor(ctx, s.log, err))
		return
	}
	s.metrics.ObserveIdempotency([...]string{account.IdempotencyReserved: "first", account.IdempotencyReplay: "replay",
		account.IdempotencyMismatch: "reused", account.IdempotencyInFlight: "in_flight", account.IdempotencyLost: "answer_lost"}[outcome])
	switch outcome {
	case account.IdempotencyReplay:
		var a storedAnswer
		if err := json.Unmarshal(answer, &a); err != nil {
			s.writeHuma(hctx, problemFor(ctx, s.log, err))
			return
		}
		for k, v := range a.Headers {
			hctx.SetHeader(k, v)
		}
		hctx.SetHeader("Idempotent-Replayed", "true")
		hctx.SetStatus(a.Status)
		_, _ = hctx.BodyWriter().Write(a.Body)
		return
	case account.IdempotencyMismatch:
		s.writeHuma(hctx, idempotencyProblem(ctx, http.StatusUnprocessableEntity, "idempotency-key-reused",
			"this Idempotency-Key was used for another request (another method, path or body) in the last 24 hours; send a new key with a new request",
			"was used for another request"))
		return
	case account.IdempotencyInFlight:
		p := idempotencyProblem(ctx, http.StatusConflict, "idempotency-key-in-flight",
			"a request with this Idempotency-Key is still being processed; retry once it has answered",
			"a request with this key is still being processed")
		p.retryAfter = 1
		s.writeHuma(hctx, p)
		return
	case account.IdempotencyLost:
		s.writeHuma(hctx, idempotencyProblem(ctx, http.StatusConflict, "idempotency-key-answer-lost",
			"the request with this Idempotency-Key was applied, but its answer was lost when the server stopped; read the resource's state instead of retrying",
			"its request was applied; its answer was lost"))
		return
	}

	// Reserved: run the request under the reservation, keep its answer, then send it.
	// The answer is sent only once it is kept, so a client that retries after it has
	// the answer gets the replay, never a 409 of its own request.
	keep := context.WithoutCancel(ctx)
	rec := &recordingContext{humaContext: huma.WithContext(hctx, account.WithIdempotency(ctx, res)), status: http.StatusOK}
	done := false
	defer func() {
		if !done {
			// A panic: nothing to keep; a retry may run again unless a write was applied.
			if err := s.svc.ReleaseIdempotency(keep, res); err != nil {
				s.log.ErrorContext(ctx, "release idempotency key", "err", err, "request_id", requestID(ctx))
			}
		}
	}()
	next(rec)
	done = true
	if keepAnswer(rec.status) {
		a := storedAnswer{Status: rec.status, Headers: map[string]string{}, Body: rec.body.Bytes()}
		for _, h := range replayedHeaders {
			if v := rec.header(h); v != "" {
				a.Headers[h] = v
			}
		}
		b, err := json.Marshal(a)
		if err == nil {
			err = s.svc.CompleteIdempotency(keep, res, b)
		}
		if err != nil {
			// The answer is the truth and goes out; a retry gets 409 while the
			// reservation's lease stands, then learns the request was applied.
			s.log.ErrorContext(ctx, "keep idempotent answer", "err", err, "request_id", requestID(ctx))
		}
	} else if err := s.svc.ReleaseIdempotency(keep, res); err != nil {
		s.log.ErrorContext(ctx, "release idempotency key", "err", err, "request_id", requestID(ctx))
	}
	hctx.SetStatus(rec.status)
	_, _ = hctx.BodyWriter().Write(rec.body.Bytes())
}

// recordingContext holds an operation's status and body back until its answer is
// kept; headers go to the response as they are set.
type recordingContext struct {
	humaContext
	status int
	body   bytes.Buffer
	hdr    http.Header
}

func (c *recordingContext) SetStatus(code int)    { c.status = code }
func (c *recordingContext) Status() int           { return c.status }
func (c *recordingContext) BodyWriter() io.Writer { return &c.body }

func (c *recordingContext) SetHeader(name, value string) {
	c.headers().Set(name, value)
	c.humaContext.SetHeader(name, value)
}

func (c *recordingContext) AppendHeader(name, value string) {
	c.headers().Add(name, value)
	c.humaContext.AppendHeader(name, value)
}

func (c *recordingContext) headers() http.Header {
	if c.hdr == nil {
		c.hdr = http.Header{}
	}
	return c.hdr
}

func (c *recordingContext) header(name string) string { return c.headers().Get(name) }

// humaContext names the embedded huma.Context, whose method Context a field of that
// name would hide.
type humaContext = huma.Context
