package scim

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

// Error is a SCIM error response (RFC 7644 §3.12).
type Error struct {
	Status int
	Type   string // scimType: invalidFilter, invalidValue, uniqueness, mutability, …
	Detail string
	// RetryAfter, in seconds, is sent as a Retry-After header (503 unavailable).
	RetryAfter int
}

func (e *Error) Error() string { return e.Detail }

func invalidValue(detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "invalidValue", Detail: detail}
}

func invalidSyntax(detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "invalidSyntax", Detail: detail}
}

// errorFor maps a use case's error to its SCIM error; internal errors are logged and
// answered with a detail that leaks nothing.
func errorFor(r *http.Request, log *slog.Logger, err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	var fe *filterError
	if errors.As(err, &fe) {
		return &Error{Status: http.StatusBadRequest, Type: "invalidFilter", Detail: fe.Error()}
	}
	var de *account.Error
	if !errors.As(err, &de) {
		log.ErrorContext(r.Context(), "scim: internal error", "err", err, "path", r.URL.Path)
		return &Error{Status: http.StatusInternalServerError, Detail: "internal error"}
	}
	field := ""
	if len(de.Fields) > 0 {
		field = de.Fields[0].Field
		if name, ok := attrNames[account.Field(field)]; ok {
			field = name
		}
	}
	detail := de.Message
	if field != "" && len(de.Fields) > 0 {
		detail += ": " + field + " " + de.Fields[0].Message
	}
	// The status is the one every HTTP surface gives the code (httpedge); SCIM adds
	// its scimType, and answers a value it refuses with 400, as RFC 7644 §3.12 says.
	switch de.Code {
	case account.EINVALID:
		if field == "filter" {
			return &Error{Status: http.StatusBadRequest, Type: "invalidFilter", Detail: detail}
		}
		return invalidValue(detail)
	case account.EDUPLICATEEMAIL:
		return &Error{Status: http.StatusConflict, Type: "uniqueness", Detail: detail}
	case account.ECONFLICT:
		if field != "" {
			return &Error{Status: http.StatusConflict, Type: "uniqueness", Detail: detail}
		}
	case account.EUNAVAILABLE:
		log.WarnContext(r.Context(), "scim: store unavailable", "err", err, "path", r.URL.Path)
		return &Error{Status: http.StatusServiceUnavailable, Detail: detail, RetryAfter: httpedge.UnavailableRetryAfter}
	}
	status := httpedge.Status(de.Code)
	if status == http.StatusInternalServerError {
		log.ErrorContext(r.Context(), "scim: internal error", "err", err, "path", r.URL.Path)
		return &Error{Status: status, Detail: "internal error"}
	}
	return &Error{Status: status, Detail: detail}
}

// attrNames are the SCIM attributes of the domain's fields that the use cases name in
// their errors (the use cases speak of members and teams): a team's name is a
// Group's displayName.
var attrNames = map[account.Field]string{
	account.FieldUserName: "userName", account.FieldExternalID: "externalId", account.FieldDisplayName: "displayName",
	account.FieldGivenName: "name.givenName", account.FieldFamilyName: "name.familyName",
	account.FieldFormattedName: "name.formatted", account.FieldEmployeeNumber: "employeeNumber",
	account.FieldName: "displayName", account.FieldPhones: "phoneNumbers",
}

func writeError(w http.ResponseWriter, e *Error) {
	body := map[string]any{"schemas": []string{errorSchema}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.Type != "" {
		body["scimType"] = e.Type
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim"`)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
