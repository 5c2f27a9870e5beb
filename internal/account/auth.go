package account

import (
	"context"
	"encoding/hex"
	"strings"
	"time"
)

// sessionPrefix marks session tokens, so transports can tell them from other bearer
// credentials (application keys, SCIM tokens) without a lookup.
const sessionPrefix = "rs_"

// LoginResult is a new session and its account.
type LoginResult struct {
	Token   string // shown once; only its hash is stored
	Session Session
	Account Account
	// DeviceToken marks the client as a known device of the account for its next
	// logins: the one it presented, if valid, else a new one (shown once).
	DeviceToken string
}

// Device tokens: a client that logged in gets one, and presents it at its next logins
// (OWASP's device cookies). It proves nothing on its own; it only gives the client its
// own allowance of failed attempts, apart from every other client's.
const (
	devicePrefix   = "rd_"
	DeviceTokenTTL = 90 * 24 * time.Hour // a device token lasts this long after its login
	// maxDeviceTokens bounds how many presented tokens one login looks up.
	maxDeviceTokens = 4
)

// LoginGate rations password checks. Login calls it once it knows whether the client
// is a known device of the account, before any password is checked: device is the key
// of that device's allowance, or "" for a client that is not one (whose allowance is
// the email's, shared by every such client: emailKey). An error refuses the attempt
// and is returned as it is; otherwise finish is called with whether the password was
// right.
type LoginGate func(emailKey, device string) (finish func(ok bool), err error)

// LoginInput is one login attempt.
type LoginInput struct {
	Email, Password string
	// DeviceTokens are the device tokens the client holds (a browser may hold one per
	// account); the first maxDeviceTokens are looked at.
	DeviceTokens  []string
	IP, UserAgent string
	Gate          LoginGate // nil: no rationing
}

// Login checks an email and password and opens a session (LoginWith without a gate
// or device tokens).
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (LoginResult, error) {
	return s.LoginWith(ctx, LoginInput{Email: email, Password: password, IP: ip, UserAgent: userAgent})
}

// LoginWith checks an email and password and opens a session. Wrong credentials, an
// unknown email, an account with no password and a disabled account all answer the
// same EUNAUTHENTICATED, after the same amount of hashing work, and are rationed by
// the gate alike.
func (s *Service) LoginWith(ctx context.Context, in LoginInput) (res LoginResult, err error) {
	defer wrap(&err, "Login")
	if err := CheckText("email", in.Email); err != nil {
		return res, err
	}
	var a Account
	device := ""
	err = s.store.Read(ctx, func(tx Tx) error {
		var err error
		a, err = tx.AccountByEmail(ctx, EmailKey(in.Email))
		if err != nil {
			return err
		}
		device, err = s.knownDevice(ctx, tx, a.ID, in.DeviceTokens)
		return err
	})
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return res, err
	}
	finish := func(bool) {}
	if in.Gate != nil {
		deviceKey := ""
		if device != "" {
			deviceKey = hex.EncodeToString(TokenHash(device))
		}
		if finish, err = in.Gate(EmailKey(in.Email), deviceKey); err != nil {
			return res, err
		}
	}
	hash := a.PasswordHash // empty when not found: verified against a dummy
	password := in.Password
	if len(password) > maxPasswordLen {
		password = password[:maxPasswordLen]
	}
	ok, err := s.hasher.Verify(ctx, hash, password)
	if err != nil {
		finish(true) // no verdict: the attempt does not count against the client
		return res, err
	}
	ok = ok && a.State == AccountActive
	finish(ok)
	if !ok {
		return res, Errorf(EUNAUTHENTICATED, "invalid email or password")
	}
	token, tokenHash := s.newToken(sessionPrefix)
	now := s.now()
	sess := Session{
		ID: s.ids.New(), AccountID: a.ID, TokenHash: tokenHash,
		CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL),
		IP: in.IP, UserAgent: truncate(in.UserAgent, 300),
	}
	actor := Actor{Account: a, SessionID: sess.ID, AuthTime: sess.CreatedAt, IP: in.IP}
	err = s.store.Write(ctx, func(tx Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if device == "" {
			var hash []byte
			device, hash = s.newToken(devicePrefix)
			if err := tx.CreateAccountToken(ctx, AccountToken{Hash: hash, Kind: TokenDevice, AccountID: a.ID,
				Email: a.Email, ExpiresAt: now.Add(DeviceTokenTTL), CreatedAt: now}); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, actor, "", AuditAuthLogin, "account", a.ID, nil, nil); err != nil {
			return err
		}
		return s.joinByDomain(ctx, tx, a, in.IP)
	})
	return LoginResult{Token: token, Session: sess, Account: a, DeviceToken: device}, err
}

// revokeCredentials ends what the account's old password opened: every session but
// keepSessionID's (the one that changed it, if any) and every device token, so that
// a client that logged in with the old password no longer counts as a known device
// of the account (its failed logins share the unknown clients' allowance again);
// and its sign-ins to the applications, which are told (back-channel logout) for
// reason.
func (s *Service) revokeCredentials(ctx context.Context, tx Tx, accountID, keepSessionID, reason string) error {
	if err := tx.DeleteSessionsOfAccount(ctx, accountID, keepSessionID); err != nil {
		return err
	}
	if err := tx.DeleteAccountTokens(ctx, TokenDevice, accountID); err != nil {
		return err
	}
	return s.endOIDCGrants(ctx, tx, accountID, "", reason)
}

// knownDevice returns the first of tokens that is an unexpired device token of the
// account, or "".
func (s *Service) knownDevice(ctx context.Context, tx Tx, accountID string, tokens []string) (string, error) {
	for i, token := range tokens {
		if i == maxDeviceTokens {
			break
		}
		if !IsDeviceToken(token) {
			continue
		}
		t, err := tx.AccountToken(ctx, TokenDevice, TokenHash(token))
		switch {
		case ErrorCode(err) == ENOTFOUND:
			continue
		case err != nil:
			return "", err
		case t.AccountID == accountID && s.now().Before(t.ExpiresAt):
			return token, nil
		}
	}
	return "", nil
}

// IsDeviceToken reports whether a string has the form of a device token: its prefix
// and 43 characters of unpadded URL-safe base64 (32 random bytes).
func IsDeviceToken(token string) bool {
	rest, ok := strings.CutPrefix(token, devicePrefix)
	if !ok || len(rest) != 43 {
		return false
	}
	for _, c := range rest {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// IsSessionToken reports whether a bearer token has the form of a session token.
func IsSessionToken(token string) bool { return strings.HasPrefix(token, sessionPrefix) }

// Authenticate resolves a session token to its actor. An unknown, expired or revoked
// token, or one whose account is no longer active, is EUNAUTHENTICATED.
func (s *Service) Authenticate(ctx context.Context, token, ip string) (Actor, error) {
	if !IsSessionToken(token) || len(token) > 100 {
		return Actor{}, Errorf(EUNAUTHENTICATED, "invalid or expired session")
	}
	var sess Session
	var a Account
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		sess, a, err = tx.SessionByTokenHash(ctx, TokenHash(token))
		return err
	})
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Actor{}, Errorf(EUNAUTHENTICATED, "invalid or expired session")
	case err != nil:
		return Actor{}, err
	case !s.now().Before(sess.ExpiresAt) || a.State != AccountActive:
		return Actor{}, Errorf(EUNAUTHENTICATED, "invalid or expired session")
	}
	return Actor{Account: a, SessionID: sess.ID, AuthTime: sess.CreatedAt, IP: ip}, nil
}

// Logout revokes the actor's session.
func (s *Service) Logout(ctx context.Context, actor Actor) error {
	return s.store.Write(ctx, func(tx Tx) error {
		if err := tx.DeleteSession(ctx, actor.SessionID); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditAuthLogout, "account", actor.Account.ID, nil, nil)
	})
}

// ChangePassword sets a new password after checking the current one, clears
// must_reset_password, and revokes every other session of the account.
// Errors: EINVALID naming current_password (wrong) or new_password (policy).
func (s *Service) ChangePassword(ctx context.Context, actor Actor, current, next string) (err error) {
	defer wrap(&err, "ChangePassword(%s)", actor.Account.ID)
	if err := CheckPassword("new_password", next); err != nil {
		return err
	}
	if current == next {
		return Invalid("new_password", "must differ from the current password")
	}
	if len(current) > maxPasswordLen {
		return Invalid("current_password", "is not your current password")
	}
	ok, err := s.hasher.Verify(ctx, actor.Account.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		return Invalid("current_password", "is not your current password")
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		a, err := tx.AccountByID(ctx, actor.Account.ID)
		if err != nil {
			return err
		}
		if a.PasswordHash != actor.Account.PasswordHash {
			return Errorf(ECONFLICT, "the password was changed meanwhile; log in again")
		}
		a.PasswordHash, a.MustResetPassword, a.UpdatedAt = hash, false, s.now()
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if err := s.revokeCredentials(ctx, tx, a.ID, actor.SessionID, LogoutPasswordChanged); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditAccountPasswordChanged, "account", a.ID, nil, nil)
	})
}

// Bootstrap makes sure the store has an operator. With email and password it creates
// that operator if there is none (created reports whether it did). Without them, and
// with no operator yet, it returns a one-time setup token for CompleteSetup.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (created bool, setupToken string, err error) {
	defer wrap(&err, "Bootstrap")
	var n int
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		n, err = tx.CountOperators(ctx)
		return err
	}); err != nil {
		return false, "", err
	}
	if n > 0 {
		return false, "", nil
	}
	if email == "" && password == "" {
		token, hash := s.newToken(setupPrefix)
		err := s.store.Write(ctx, func(tx Tx) error {
			return tx.CreateSetupToken(ctx, hash, s.now().Add(s.setupTTL))
		})
		return false, token, err
	}
	a, err := s.newOperator(ctx, email, "", "", password)
	if err != nil {
		return false, "", err
	}
	err = s.store.Write(ctx, func(tx Tx) error { return s.createOperator(ctx, tx, a, "") })
	if ErrorCode(err) == ECONFLICT {
		return false, "", nil // another process bootstrapped the same store first
	}
	return err == nil, "", err
}

// SetupInput is the first operator's account, created through a setup link.
type SetupInput struct {
	Token, Email, FirstName, LastName, Password string
}

// CheckSetup tells whether a setup link can still be used, so that its page shows
// the form only then. Errors: EINVALIDTOKEN (unknown, used or expired token),
// ECONFLICT (an operator exists already: Roster is set up).
func (s *Service) CheckSetup(ctx context.Context, token string) (err error) {
	defer wrap(&err, "CheckSetup")
	if !WellFormedToken(setupPrefix, token) {
		return Errorf(EINVALIDTOKEN, "the setup link is unknown, used or expired")
	}
	return s.store.Read(ctx, func(tx Tx) error {
		n, err := tx.CountOperators(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return Errorf(ECONFLICT, "Roster is set up already: its operator logs in to the console")
		}
		ok, err := tx.SetupTokenLive(ctx, TokenHash(token), s.now())
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(EINVALIDTOKEN, "the setup link is unknown, used or expired")
		}
		return nil
	})
}

// CompleteSetup consumes a one-time setup token and creates the first operator.
// Errors: EINVALIDTOKEN (unknown, used or expired token), ECONFLICT (an operator
// exists already), EINVALID.
func (s *Service) CompleteSetup(ctx context.Context, in SetupInput, ip string) (a Account, err error) {
	defer wrap(&err, "CompleteSetup")
	if !WellFormedToken(setupPrefix, in.Token) {
		return a, Errorf(EINVALIDTOKEN, "the setup link is unknown, used or expired")
	}
	a, err = s.newOperator(ctx, in.Email, in.FirstName, in.LastName, in.Password)
	if err != nil {
		return a, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		ok, err := tx.ConsumeSetupToken(ctx, TokenHash(in.Token), s.now())
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(EINVALIDTOKEN, "the setup link is unknown, used or expired")
		}
		return s.createOperator(ctx, tx, a, ip)
	})
	return a, err
}

func (s *Service) newOperator(ctx context.Context, email, first, last, password string) (Account, error) {
	email, errE := NormalizeEmail("email", email)
	first, errF := NormalizeName("first_name", first, false)
	last, errL := NormalizeName("last_name", last, false)
	if err := collect(errE, errF, errL, CheckPassword("password", password)); err != nil {
		return Account{}, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return Account{}, err
	}
	now := s.now()
	return Account{
		ID: s.ids.New(), Email: email, FirstName: first, LastName: last,
		State: AccountActive, Operator: true, PasswordHash: hash, EmailVerified: true, CreatedAt: now, UpdatedAt: now,
	}, nil
}

func (s *Service) createOperator(ctx context.Context, tx Tx, a Account, ip string) error {
	n, err := tx.CountOperators(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return Errorf(ECONFLICT, "an operator exists already")
	}
	if err := tx.CreateAccount(ctx, a); err != nil {
		return err
	}
	return s.audit(ctx, tx, Actor{Account: a, IP: ip}, "", AuditOperatorBootstrapped, "account", a.ID, nil, accountState(a))
}

// PurgeExpiredSessions deletes sessions, emailed one-time links and idempotency keys
// past their expiry; run periodically. It returns how many it deleted.
func (s *Service) PurgeExpiredSessions(ctx context.Context) (int, error) {
	var n int
	err := s.store.Write(ctx, func(tx Tx) error {
		sessions, err := tx.DeleteExpiredSessions(ctx, s.now())
		if err != nil {
			return err
		}
		tokens, err := tx.DeleteExpiredAccountTokens(ctx, s.now())
		if err != nil {
			return err
		}
		keys, err := tx.DeleteExpiredIdempotencyKeys(ctx, s.now())
		if err != nil {
			return err
		}
		// Sign in with Roster: requests, codes and tokens past their life (a spent
		// refresh token is kept until its family could no longer be used).
		grants, err := tx.DeleteExpiredOIDC(ctx, s.now())
		n = sessions + tokens + keys + grants
		return err
	})
	return n, err
}

// Me is the actor's account and memberships, and the organizations its email's
// verified domain suggests (domainSuggestions), in one read.
func (s *Service) Me(ctx context.Context, actor Actor) (Account, []AccountMembership, []Organization, error) {
	var ms []AccountMembership
	var sug []Organization
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if ms, err = tx.MembershipsOfAccount(ctx, actor.Account.ID); err != nil {
			return err
		}
		sug, err = domainSuggestions(ctx, tx, actor)
		return err
	})
	return actor.Account, ms, sug, err
}

// accountState is the audit trail's view of an account: never the password hash.
func accountState(a Account) map[string]any {
	m := map[string]any{"email": a.Email, "first_name": a.FirstName, "last_name": a.LastName, "state": a.State}
	if a.Username != "" {
		m["username"] = a.Username
	}
	if a.Phone != "" {
		m["phone"] = a.Phone
	}
	if a.Operator {
		m["operator"] = true
	}
	if a.MustResetPassword {
		m["must_reset_password"] = true
	}
	if a.ManagedBy != "" {
		m["managed_by"] = a.ManagedBy
	}
	if a.EmailVerified {
		m["email_verified"] = true
	}
	return m
}

// truncate makes s a label the store can hold: at most n bytes, cut on a character
// boundary, with a NUL or bytes that are not UTF-8 replaced by U+FFFD (a User-Agent
// is whatever the client sent).
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
