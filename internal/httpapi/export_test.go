package httpapi

import "time"

// SetBodyReadTimeout shortens the time to read a request's body, for a test;
// it returns the function that restores it.
func SetBodyReadTimeout(d time.Duration) (restore func()) {
	old := bodyReadTimeout
	bodyReadTimeout = d
	return func() { bodyReadTimeout = old }
}

// Fingerprint is how the Idempotency-Key middleware identifies a request, for tests
// that hold a reservation as a crashed request would have left it.
var Fingerprint = fingerprint

// CheckThroughHuma makes GET /api/v1/check take huma's generic path (on) or its own
// handler, fastCheck (off, as served).
func (s *Server) CheckThroughHuma(on bool) { s.checkThroughHuma.Store(on) }
