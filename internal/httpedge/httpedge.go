// Package httpedge is what every HTTP surface of Roster (the API, the console, SCIM)
// does the same way at its edge: the one table from a domain error code to an HTTP
// status, the client's address, and the bearer token of an Authorization header.
package httpedge

import (
	"context"
	"net"
	"net/http"
	"strings"

	"roster.dev/roster/internal/account"
)

// statusOf maps each domain error code to its HTTP status: the one table for it.
var statusOf = map[string]int{
	account.EINVALID:         http.StatusUnprocessableEntity,
	account.EUNAUTHENTICATED: http.StatusUnauthorized,
	account.EFORBIDDEN:       http.StatusForbidden,
	account.ENOTFOUND:        http.StatusNotFound,
	account.ECONFLICT:        http.StatusConflict,
	account.EDUPLICATEEMAIL:  http.StatusConflict,
	account.EQUOTAEXCEEDED:   http.StatusConflict,
	account.EROLECEILING:     http.StatusForbidden,
	account.EINVALIDTOKEN:    http.StatusBadRequest,
	account.ETOKENEXPIRED:    http.StatusGone,
	account.ERATELIMITED:     http.StatusTooManyRequests,
	account.EPASSWORDRESET:   http.StatusForbidden,
	account.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	account.EUNAVAILABLE:     http.StatusServiceUnavailable,
	account.EINTERNAL:        http.StatusInternalServerError,
}

// Status is the HTTP status of a domain error code; a code it does not know is a
// server error (500), never a client's.
func Status(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// UnavailableRetryAfter is the Retry-After, in seconds, of a 503 unavailable: about
// the time a restarted database takes to accept connections again.
const UnavailableRetryAfter = 5

// Bearer returns the token of an Authorization header of the Bearer scheme (its name
// in any case), and whether there is one.
func Bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// PeerIP is the address of the connection's other end (host of a host:port).
func PeerIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

type ipKey struct{}

type requestIDKey struct{}

// WithRequestID records, in a request's context, the id its answer and log lines carry.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id the edge gave the request (WithRequestID); "" when none did.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithClientIP records, in a request's context, the address the request came from.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey{}, ip)
}

// ClientIP is the address a request came from, as the edge recorded it in its context
// (WithClientIP); "" when none did.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(ipKey{}).(string)
	return ip
}

// RequestIP is r's client address: as recorded in its context, else its peer's.
func RequestIP(r *http.Request) string {
	if ip := ClientIP(r.Context()); ip != "" {
		return ip
	}
	return PeerIP(r.RemoteAddr)
}
