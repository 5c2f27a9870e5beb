package account

import "time"

// Kinds of one-time account tokens.
const (
	TokenVerifyEmail   = "verify-email"   // sign-up: proves the email, then creates the account
	TokenPasswordReset = "password-reset" // sets a new password
	TokenDevice        = "device"         // a client that logged in to the account (not single-use)
)

// AccountToken is a single-use secret sent by email: a sign-up's verification (which
// carries the sign-up in Data until the email is proven) or a password reset. Only
// its SHA-256 is stored.
type AccountToken struct {
	Hash      []byte
	Kind      string
	AccountID string // password reset: the account; sign-up: empty
	Email     string
	Data      []byte // sign-up: the pending account as JSON
	ExpiresAt time.Time
	CreatedAt time.Time
}
