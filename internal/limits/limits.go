// Package limits holds Roster's rate limits and the use cases they ration, shared by
// the API and the console so that neither is a way around the other's: logins,
// password changes, the self-service requests that send email (sign-up, password
// reset, done after their answer), invitation emails and join requests. One Limits
// is built by the wiring (internal/app) and given to both.
package limits

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
	"roster.dev/roster/internal/ratelimit"
)

// Config sets the limits; a zero Limit takes its default.
type Config struct {
	// LoginPerIP bounds the attempts of clients that are not a known device of the
	// account, per address; LoginPerEmail the failed attempts of all those clients
	// together, per email; LoginPerDevice the failed attempts of each known device.
	LoginPerIP     ratelimit.Limit
	LoginPerEmail  ratelimit.Limit
	LoginPerDevice ratelimit.Limit
	// PasswordChecksPerAccount bounds the wrong current passwords of password
	// changes, per account.
	PasswordChecksPerAccount ratelimit.Limit
	// InvitesPerAccount bounds the invitation emails (sends, resends, approved join
	// requests) one account sends; JoinRequestsPerAccount the join requests it makes.
	InvitesPerAccount      ratelimit.Limit
	JoinRequestsPerAccount ratelimit.Limit
	// SelfServicePerIP and SelfServicePerEmail bound sign-ups and password-reset
	// requests per client address and per address mailed.
	SelfServicePerIP    ratelimit.Limit
	SelfServicePerEmail ratelimit.Limit
}

// Defaults are the limits of a zero Config.
var Defaults = Config{
	LoginPerIP:               ratelimit.Limit{Every: 2 * time.Second, Burst: 30},
	LoginPerEmail:            ratelimit.Limit{Every: time.Minute, Burst: 10},
	LoginPerDevice:           ratelimit.Limit{Every: time.Minute, Burst: 10},
	PasswordChecksPerAccount: ratelimit.Limit{Every: 5 * time.Minute, Burst: 5},
	InvitesPerAccount:        ratelimit.Limit{Every: 3600 * time.Millisecond, Burst: 1000},
	JoinRequestsPerAccount:   ratelimit.Limit{Every: time.Minute, Burst: 10},
	SelfServicePerIP:         ratelimit.Limit{Every: 6 * time.Second, Burst: 20},
	SelfServicePerEmail:      ratelimit.Limit{Every: 5 * time.Minute, Burst: 5},
}

// maxKeys bounds each limiter's memory (ratelimit.New).
const maxKeys = 100_000

// Limits are the limiters, and the queue of the work done after an answer. Safe for
// concurrent use.
type Limits struct {
	svc            *account.Service
	loginIP        *ratelimit.Keyed
	loginEmail     *ratelimit.Keyed
	loginDevice    *ratelimit.Keyed
	passwordChecks *ratelimit.Keyed
	invites        *ratelimit.Keyed
	joins          *ratelimit.Keyed
	selfIP         *ratelimit.Keyed
	selfEmail      *ratelimit.Keyed
	bg             *background
}

// New builds the limits over svc; their buckets refill on now's clock (nil:
// time.Now). Close stops the queue of after-answer work.
func New(svc *account.Service, log *slog.Logger, c Config, now func() time.Time) *Limits {
	if now == nil {
		now = time.Now
	}
	keyed := func(l, def ratelimit.Limit) *ratelimit.Keyed {
		if l.Burst == 0 {
			l = def
		}
		return ratelimit.New(l, maxKeys, now)
	}
	d := Defaults
	return &Limits{
		svc:            svc,
		loginIP:        keyed(c.LoginPerIP, d.LoginPerIP),
		loginEmail:     keyed(c.LoginPerEmail, d.LoginPerEmail),
		loginDevice:    keyed(c.LoginPerDevice, d.LoginPerDevice),
		passwordChecks: keyed(c.PasswordChecksPerAccount, d.PasswordChecksPerAccount),
		invites:        keyed(c.InvitesPerAccount, d.InvitesPerAccount),
		joins:          keyed(c.JoinRequestsPerAccount, d.JoinRequestsPerAccount),
		selfIP:         keyed(c.SelfServicePerIP, d.SelfServicePerIP),
		selfEmail:      keyed(c.SelfServicePerEmail, d.SelfServicePerEmail),
		bg:             newBackground(log, 1000),
	}
}

// Refused is a request a limit turned down: 429 rate-limited, or 503 unavailable
// when the after-answer queue is full or closed, with the seconds to wait. The API
// and the console answer it as its Code says, with a Retry-After.
type Refused struct {
	Code       string // account.ERATELIMITED or account.EUNAVAILABLE
	Message    string
	RetryAfter int // seconds, at least 1
}

func (e *Refused) Error() string { return e.Code + ": " + e.Message }

// RetryAfterOf is the Retry-After, in seconds, of err when a limit refused it (0 when
// none did).
func RetryAfterOf(err error) int {
	var r *Refused
	if errors.As(err, &r) {
		return r.RetryAfter
	}
	return 0
}

func rateLimited(wait time.Duration, message string) *Refused {
	return &Refused{Code: account.ERATELIMITED, Message: message, RetryAfter: max(1, int((wait+time.Second-1)/time.Second))}
}

// Login runs a login attempt from the request's client under the login limits (429
// with Retry-After), which are OWASP's device cookies: a known device of the account
// (one of in.DeviceTokens) spends its own allowance of failed attempts; every other
// client spends its address's allowance of attempts and the email's allowance of
// failed attempts from unknown clients. So guessing is bounded, and failures from
// elsewhere never lock the account's own devices out. A right password gives the
// failure allowance back.
func (l *Limits) Login(ctx context.Context, in account.LoginInput) (account.LoginResult, error) {
	ip := httpedge.ClientIP(ctx)
	in.IP = ip
	// A client that presents no device token cannot be a known device: its address's
	// allowance is spent before the store is read.
	mayBeKnown := slices.ContainsFunc(in.DeviceTokens, account.IsDeviceToken)
	if !mayBeKnown {
		if ok, wait := l.loginIP.Allow(ip); !ok {
			return account.LoginResult{}, rateLimited(wait, "too many login attempts from this address")
		}
	}
	in.Gate = func(emailKey, device string) (func(bool), error) {
		if device != "" {
			if ok, wait := l.loginDevice.Allow(device); !ok {
				return nil, rateLimited(wait, "too many failed logins from this device; try again later")
			}
			return func(ok bool) {
				if ok {
					l.loginDevice.Refund(device, 1)
				}
			}, nil
		}
		if mayBeKnown {
			if ok, wait := l.loginIP.Allow(ip); !ok {
				return nil, rateLimited(wait, "too many login attempts from this address")
			}
		}
		if ok, wait := l.loginEmail.Allow(emailKey); !ok {
			return nil, rateLimited(wait, "too many failed logins for this email; log in from a device that logged in to it before, or try again later")
		}
		return func(ok bool) {
			if ok {
				l.loginEmail.Refund(emailKey, 1)
			}
		}, nil
	}
	return l.svc.LoginWith(ctx, in)
}

// ChangePassword changes the actor's password under the account's allowance of wrong
// current passwords (429 with Retry-After once it is spent), so that a session cannot
// guess the password without bound. Only a wrong current password spends it.
func (l *Limits) ChangePassword(ctx context.Context, actor account.Actor, current, next string) error {
	key := actor.Account.ID
	if ok, wait := l.passwordChecks.Allow(key); !ok {
		return rateLimited(wait, "too many wrong current passwords; try again later")
	}
	err := l.svc.ChangePassword(ctx, actor, current, next)
	if !wrongCurrentPassword(err) {
		l.passwordChecks.Refund(key, 1)
	}
	return err
}

// wrongCurrentPassword reports whether err refuses the current_password.
func wrongCurrentPassword(err error) bool {
	var de *account.Error
	if !errors.As(err, &de) || de.Code != account.EINVALID {
		return false
	}
	return slices.ContainsFunc(de.Fields, func(f account.FieldError) bool { return f.Field == "current_password" })
}

// SignUp checks a sign-up under the self-service limits and queues it, to be done
// after the answer: what the store does differs for a known and an unknown email, the
// answer must not.
func (l *Limits) SignUp(ctx context.Context, in account.SignUpInput) error {
	if err := l.AllowSelfService(ctx, in.Email); err != nil {
		return err
	}
	if err := l.svc.CheckSignUp(in); err != nil {
		return err
	}
	ip := httpedge.ClientIP(ctx)
	return l.bg.enqueue(ctx, "sign-up", func(ctx context.Context) error { return l.svc.SignUp(ctx, in, ip) })
}

// RequestPasswordReset checks a password-reset request under the self-service limits
// and queues it, to be done after the answer: only a known email has store work to
// do, and the answer must not show which.
func (l *Limits) RequestPasswordReset(ctx context.Context, email string) error {
	if err := l.AllowSelfService(ctx, email); err != nil {
		return err
	}
	email, err := account.NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	ip := httpedge.ClientIP(ctx)
	return l.bg.enqueue(ctx, "password reset", func(ctx context.Context) error {
		return l.svc.RequestPasswordReset(ctx, email, ip)
	})
}

// AllowSelfService limits the public requests that send email, per client address
// and per address mailed, so that nobody can flood a mailbox through Roster.
func (l *Limits) AllowSelfService(ctx context.Context, email string) error {
	if ok, wait := l.selfIP.Allow(httpedge.ClientIP(ctx)); !ok {
		return rateLimited(wait, "too many requests from this address; try again later")
	}
	if ok, wait := l.selfEmail.Allow(account.EmailKey(email)); !ok {
		return rateLimited(wait, "too many emails asked for this address; try again later")
	}
	return nil
}

// AllowInvitations takes n invitation emails from the actor's allowance. The caller
// gives back, with RefundInvitations, those it did not send after all: the allowance
// counts only the invitations committed.
func (l *Limits) AllowInvitations(ctx context.Context, actor account.Actor, n int) error {
	if n < 1 {
		return nil
	}
	if ok, wait := l.invites.AllowN(actor.Account.ID, n); !ok {
		return rateLimited(wait, "too many invitation emails sent from this account; try again later")
	}
	return nil
}

// RefundInvitations gives back n invitation emails taken by AllowInvitations that
// were not sent: the request failed, or those items of a bulk request did.
func (l *Limits) RefundInvitations(actor account.Actor, n int) {
	l.invites.Refund(actor.Account.ID, n)
}

// AllowJoinRequest takes one join request from the actor's allowance (429 when it is
// spent).
func (l *Limits) AllowJoinRequest(ctx context.Context, actor account.Actor) error {
	if ok, wait := l.joins.Allow(actor.Account.ID); !ok {
		return rateLimited(wait, "too many join requests from this account; try again later")
	}
	return nil
}

// Settle waits until the work queued after the answers so far (password resets,
// sign-ups) is done: for tests, which then see its emails.
func (l *Limits) Settle() { l.bg.settle() }

// Close stops taking work for after the answer and waits, until ctx ends, for what is
// queued to be done: call it after the HTTP server's Shutdown, before the store closes.
func (l *Limits) Close(ctx context.Context) error { return l.bg.close(ctx) }
