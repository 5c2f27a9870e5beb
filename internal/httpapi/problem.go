package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
	"roster.dev/roster/internal/limits"
)

// problemBase prefixes every problem type.
const problemBase = "https://roster.dev/problems/"

// Problem is an RFC 9457 problem detail, as API.md specifies it.
type Problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail,omitempty"`
	RequestID string               `json:"request_id,omitempty"`
	Errors    []account.FieldError `json:"errors,omitempty"`
	// retryAfter, in seconds, is sent as a Retry-After header with 429 and 503.
	retryAfter int
}

func (p *Problem) Error() string { return p.Detail }

// RetryAfter is the number of seconds a 429 asks the client to wait (0: none said).
func (p *Problem) RetryAfter() int { return p.retryAfter }
func (p *Problem) GetStatus() int  { return p.Status }

// Code is the problem's slug: the domain's error code it answers (account.EINVALID…).
func (p *Problem) Code() string { return strings.TrimPrefix(p.Type, problemBase) }

// ContentType makes huma send problems as application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" || ct == "" {
		return "application/problem+json"
	}
	return ct
}

// The problem types of HTTP itself, which no use case answers (the domain's codes,
// account.E…, are the others): API.md's 405 and 415, and huma's 406 and 408.
const (
	slugMethodNotAllowed     = "method-not-allowed"     // 405: the path is known, the method is not (with Allow)
	slugNotAcceptable        = "not-acceptable"         // 406: no answer in a media type the Accept header takes
	slugRequestTimeout       = "request-timeout"        // 408: the body did not arrive in time
	slugUnsupportedMediaType = "unsupported-media-type" // 415: a body the operation cannot read (Content-Type)
)

// slugOfStatus names problems that come from HTTP itself rather than the domain.
func slugOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return account.EINVALID
	case http.StatusUnauthorized:
		return account.EUNAUTHENTICATED
	case http.StatusForbidden:
		return account.EFORBIDDEN
	case http.StatusNotFound:
		return account.ENOTFOUND
	case http.StatusMethodNotAllowed:
		return slugMethodNotAllowed
	case http.StatusNotAcceptable:
		return slugNotAcceptable
	case http.StatusRequestTimeout:
		return slugRequestTimeout
	case http.StatusUnsupportedMediaType:
		return slugUnsupportedMediaType
	case http.StatusConflict:
		return account.ECONFLICT
	case http.StatusRequestEntityTooLarge:
		return account.ETOOLARGE
	case http.StatusTooManyRequests:
		return account.ERATELIMITED
	case http.StatusServiceUnavailable:
		return account.EUNAVAILABLE
	}
	return account.EINTERNAL
}

func newProblem(ctx context.Context, status int, slug, detail string) *Problem {
	return &Problem{
		Type: problemBase + slug, Title: http.StatusText(status), Status: status,
		Detail: detail, RequestID: requestID(ctx),
	}
}

// ProblemFor is problemFor for the console, which shows the API's problems inline.
func ProblemFor(ctx context.Context, log *slog.Logger, err error) *Problem {
	return problemFor(ctx, log, err)
}

// problemFor turns a use case's error into a problem. Domain errors keep their code,
// message and fields; anything else is logged in full and answered as a bare 500, so
// no internal detail reaches the client.
func problemFor(ctx context.Context, log *slog.Logger, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var refused *limits.Refused
	if errors.As(err, &refused) {
		p = newProblem(ctx, httpedge.Status(refused.Code), refused.Code, refused.Message)
		p.retryAfter = refused.RetryAfter
		return p
	}
	var de *account.Error
	if !errors.As(err, &de) {
		if errors.Is(err, context.Canceled) {
			return newProblem(ctx, 499, account.EINTERNAL, "request cancelled")
		}
		log.ErrorContext(ctx, "internal error", "err", err, "request_id", requestID(ctx))
		return newProblem(ctx, http.StatusInternalServerError, account.EINTERNAL, "internal error; the request id identifies it in the server's log")
	}
	p = newProblem(ctx, httpedge.Status(de.Code), de.Code, de.Message)
	p.Errors = de.Fields
	if de.Code == account.EUNAVAILABLE {
		// The cause (which the domain error wraps) is for the operator, not the client.
		log.WarnContext(ctx, "store unavailable", "err", err, "request_id", requestID(ctx))
		p.retryAfter = httpedge.UnavailableRetryAfter
	}
	return p
}

// hookHumaErrors makes huma's own errors (body decoding, schema validation, size
// limits) problems of our shape: fields named as in the body ("email", not
// "body.email"). huma exposes this only as package variables; they are set once per
// process, and every Server sets them to the same function.
var hookOnce sync.Once

func hookHumaErrors() {
	hookOnce.Do(func() {
		huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			var ctx context.Context = context.Background()
			if hctx != nil {
				ctx = hctx.Context()
			}
			return humaProblem(ctx, status, msg, errs...)
		}
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return humaProblem(context.Background(), status, msg, errs...)
		}
	})
}

// unmarshalErr reads the field path out of encoding/json's type errors.
var unmarshalErr = regexp.MustCompile(`^json: cannot unmarshal .* into Go struct field [^.\s]*\.(\S+) of type`)

func humaProblem(ctx context.Context, status int, msg string, errs ...error) *Problem {
	p := newProblem(ctx, status, slugOfStatus(status), msg)
	if status == http.StatusBadRequest && len(errs) > 0 {
		p.Detail = "the request body is not valid JSON"
	}
	for _, err := range errs {
		var d *huma.ErrorDetail
		if errors.As(err, &d) {
			if m := unmarshalErr.FindStringSubmatch(d.Message); m != nil {
				// A value of the right JSON type that does not fit the Go field (an integer
				// too large): name the field, never the Go type behind it.
				p.Errors = append(p.Errors, account.FieldError{Field: m[1], Message: "is out of range"})
				continue
			}
			field, message := fieldOf(d.Location, d.Message)
			p.Errors = append(p.Errors, account.FieldError{Field: field, Message: message})
		} else if err != nil && status < 500 {
			p.Errors = append(p.Errors, account.FieldError{Field: "body", Message: err.Error()})
		}
	}
	return p
}

// fieldOf turns huma's location ("body.teams[0]", "query.limit") into our field name,
// and for "expected required property x" names x where it is missing ("items[0].x"),
// saying "is required" as the domain does.
func fieldOf(loc, msg string) (field, message string) {
	field = loc
	for _, prefix := range []string{"body.", "query.", "path.", "header."} {
		if strings.HasPrefix(loc, prefix) {
			field = strings.TrimPrefix(loc, prefix)
			break
		}
	}
	if field == "body" {
		field = ""
	}
	if rest, ok := strings.CutPrefix(msg, "expected required property "); ok {
		if f, _, ok := strings.Cut(rest, " "); ok {
			if field != "" {
				f = field + "." + f
			}
			return f, "is required"
		}
	}
	if field == "" {
		field = loc
	}
	return field, msg
}

// writeProblem writes p to a plain http.ResponseWriter (outside huma: middleware,
// unknown routes, panics).
func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", itoa(p.retryAfter))
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
