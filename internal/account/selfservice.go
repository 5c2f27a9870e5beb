package account

import (
	"context"
	"encoding/json"
	"time"
)

// Lifetimes of the emailed one-time links.
const (
	verifyEmailTTL   = 24 * time.Hour
	passwordResetTTL = time.Hour
)

// Token prefixes of the emailed links.
const (
	verifyPrefix = "rv_"
	resetPrefix  = "rp_"
	setupPrefix  = "setup_"
)

// SignUpInput is POST /auth/signup. Password is accepted for compatibility and
// ignored: the password is chosen on the verification link's page (VerifyEmail),
// by whoever proves the mailbox — never by whoever signed up first.
type SignUpInput struct {
	Email, FirstName, LastName, Password string
}

// signUpData is what a verification token carries until the email is proven: the
// names and the address as typed (the token's Email is the address's EmailKey, by
// which a newer sign-up finds and voids it). No password: a sign-up proves nothing
// about the mailbox, so what it typed must never become the account's password.
type signUpData struct {
	Email     string `json:"email,omitempty"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// SignUp starts an organization-independent account: it emails a verification link,
// and the account exists only once the link is followed and a password chosen there
// (VerifyEmail). A newer sign-up of the same email voids the earlier link. The
// answer is the same whether or not the email has an account: an active account is
// told by email that it exists already; a disabled one gets nothing. Errors:
// EINVALID, EFORBIDDEN (sign-up is disabled on this server).
func (s *Service) SignUp(ctx context.Context, in SignUpInput, ip string) (err error) {
	defer wrap(&err, "SignUp")
	email, first, last, err := s.checkSignUp(in)
	if err != nil {
		return err
	}
	data, err := json.Marshal(signUpData{Email: email, FirstName: first, LastName: last})
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		acct, err := tx.AccountByEmail(ctx, EmailKey(email))
		switch {
		case ErrorCode(err) == ENOTFOUND, err == nil && acct.State == AccountPending:
		case err != nil:
			return err
		case acct.State == AccountDisabled:
			return nil
		default:
			n := s.notice(NoticeAccountExists, Organization{}, Actor{}, Member{Account: acct})
			n.Link = s.baseURL + "/password-reset"
			return s.notify(ctx, tx, "", n)
		}
		// Only the newest sign-up's link works: an earlier one (perhaps someone
		// else's, for this mailbox) answers like an unknown link from now on.
		if err := tx.DeleteAccountTokensOfEmail(ctx, TokenVerifyEmail, EmailKey(email)); err != nil {
			return err
		}
		token, tokenHash := s.newToken(verifyPrefix)
		now := s.now()
		t := AccountToken{Hash: tokenHash, Kind: TokenVerifyEmail, Email: EmailKey(email), Data: data,
			ExpiresAt: now.Add(verifyEmailTTL), CreatedAt: now}
		if err := tx.CreateAccountToken(ctx, t); err != nil {
			return err
		}
		n := s.notice(NoticeVerifyEmail, Organization{}, Actor{}, Member{Account: Account{Email: email, FirstName: first}})
		n.Expires = formatExpiry(t.ExpiresAt)
		n.Link, n.Secret = s.baseURL+"/verify-email/"+token, token
		if err := s.notify(ctx, tx, "", n); err != nil {
			return err
		}
		return s.audit(ctx, tx, Actor{IP: ip}, "", AuditAccountSignupRequested, "email", email, nil, nil)
	})
}

// CheckSignUp answers what SignUp would refuse before it looks at any account:
// EFORBIDDEN (sign-up disabled) or EINVALID. It touches nothing.
func (s *Service) CheckSignUp(in SignUpInput) error {
	_, _, _, err := s.checkSignUp(in)
	return err
}

func (s *Service) checkSignUp(in SignUpInput) (email, first, last string, err error) {
	if s.disableSignUp {
		return "", "", "", Errorf(EFORBIDDEN, "sign-up is disabled on this server; ask an administrator for an invitation")
	}
	email, errE := NormalizeEmail("email", in.Email)
	first, errF := NormalizeName("first_name", in.FirstName, true)
	last, errL := NormalizeName("last_name", in.LastName, true)
	return email, first, last, collect(errE, errF, errL)
}

// VerifyEmail follows a sign-up's verification link, once, with the password the
// person chooses on the link's page: the account is created active (or, if it was
// invited and never activated, activated and claimed) with the names of the sign-up
// and that password. The token is checked first (an unknown one answers the same
// whatever the password), the password before the token is used up (a weak one
// leaves the link working). Errors: EINVALIDTOKEN (unknown, used, or replaced by a
// newer sign-up), ETOKENEXPIRED, EINVALID (password), ECONFLICT (the email has an
// active account already), EFORBIDDEN (disabled).
func (s *Service) VerifyEmail(ctx context.Context, token, password, ip string) (a Account, err error) {
	defer wrap(&err, "VerifyEmail")
	if err := s.store.Read(ctx, func(tx Tx) error {
		_, err := s.liveToken(ctx, tx, TokenVerifyEmail, verifyPrefix, token)
		return err
	}); err != nil {
		return a, err
	}
	if err := CheckPassword("password", password); err != nil {
		return a, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return a, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		t, err := s.useToken(ctx, tx, TokenVerifyEmail, verifyPrefix, token)
		if err != nil {
			return err
		}
		var d signUpData
		if err := json.Unmarshal(t.Data, &d); err != nil {
			return err
		}
		email := d.Email
		if email == "" { // a link sent before sign-ups kept the address as typed
			email = t.Email
		}
		now := s.now()
		a, err = tx.AccountByEmail(ctx, EmailKey(email))
		before := map[string]any(nil)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			a = Account{ID: s.ids.New(), Email: email, FirstName: d.FirstName, LastName: d.LastName,
				State: AccountActive, PasswordHash: hash, EmailVerified: true, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
		case err != nil:
			return err
		case a.State == AccountDisabled:
			return Errorf(EFORBIDDEN, "the account of %s is disabled", a.Email)
		case a.State == AccountActive:
			return Errorf(ECONFLICT, "%s has an active account already; log in", a.Email)
		default: // pending: invited, never activated
			before = map[string]any{"state": a.State}
			a.FirstName, a.LastName, a.PasswordHash, a.State, a.UpdatedAt = d.FirstName, d.LastName, hash, AccountActive, now
			claim(&a) // the sign-up's link proved the mailbox
			if err := tx.UpdateAccount(ctx, a); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, Actor{Account: a, IP: ip}, "", AuditAccountSignedUp, "account", a.ID, before, accountState(a)); err != nil {
			return err
		}
		return s.joinByDomain(ctx, tx, a, ip)
	})
	return a, err
}

// RequestPasswordReset emails a one-hour, single-use reset link to an active
// account. It answers the same whether or not the email has one. Errors: EINVALID
// (not an email address).
func (s *Service) RequestPasswordReset(ctx context.Context, email, ip string) (err error) {
	defer wrap(&err, "RequestPasswordReset")
	email, err = NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		acct, err := tx.AccountByEmail(ctx, EmailKey(email))
		switch {
		case ErrorCode(err) == ENOTFOUND:
			return nil
		case err != nil:
			return err
		case acct.State != AccountActive:
			return nil // pending accounts activate through their invitation; disabled ones not at all
		}
		token, hash := s.newToken(resetPrefix)
		now := s.now()
		t := AccountToken{Hash: hash, Kind: TokenPasswordReset, AccountID: acct.ID, Email: acct.Email,
			ExpiresAt: now.Add(passwordResetTTL), CreatedAt: now}
		if err := tx.CreateAccountToken(ctx, t); err != nil {
			return err
		}
		n := s.notice(NoticePasswordReset, Organization{}, Actor{}, Member{Account: acct})
		n.Expires = formatExpiry(t.ExpiresAt)
		n.Link, n.Secret = s.baseURL+"/password-reset/"+token, token
		if err := s.notify(ctx, tx, "", n); err != nil {
			return err
		}
		return s.audit(ctx, tx, Actor{IP: ip}, "", AuditAccountPasswordResetRequested, "account", acct.ID, nil, nil)
	})
}

// ResetPassword sets a new password with a reset token, once: must_reset_password
// is cleared, the account is claimed (no organization manages it any more, its
// email is verified), and every session of the account and every other reset link
// are revoked. Errors: EINVALID (new_password), EINVALIDTOKEN, ETOKENEXPIRED.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword, ip string) (err error) {
	defer wrap(&err, "ResetPassword")
	if err := CheckPassword("new_password", newPassword); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		t, err := s.useToken(ctx, tx, TokenPasswordReset, resetPrefix, token)
		if err != nil {
			return err
		}
		a, err := tx.AccountByID(ctx, t.AccountID)
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(EINVALIDTOKEN, "the reset link is unknown or was used already")
		}
		if err != nil {
			return err
		}
		if a.State != AccountActive {
			return Errorf(EFORBIDDEN, "the account is %s", a.State)
		}
		before := accountState(a)
		managed := a.ManagedBy
		a.PasswordHash, a.MustResetPassword, a.UpdatedAt = hash, false, s.now()
		claim(&a) // the reset link proved the mailbox: the person takes the account over
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if managed != "" {
			if err := s.audit(ctx, tx, Actor{Account: a, IP: ip}, "", AuditAccountClaimed, "account", a.ID, before, accountState(a)); err != nil {
				return err
			}
		}
		if err := s.revokeCredentials(ctx, tx, a.ID, "", LogoutPasswordReset); err != nil {
			return err
		}
		if err := tx.DeleteAccountTokens(ctx, TokenPasswordReset, a.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, Actor{Account: a, IP: ip}, "", AuditAccountPasswordReset, "account", a.ID, nil, nil)
	})
}

// liveToken finds the unexpired one-time token of kind in tx, without using it.
// A token not of the generator's form is unknown before any lookup.
func (s *Service) liveToken(ctx context.Context, tx Tx, kind, prefix, token string) (AccountToken, error) {
	invalid := Errorf(EINVALIDTOKEN, "the link is unknown or was used already")
	if !WellFormedToken(prefix, token) {
		return AccountToken{}, invalid
	}
	t, err := tx.AccountToken(ctx, kind, TokenHash(token))
	if ErrorCode(err) == ENOTFOUND {
		return t, invalid
	}
	if err != nil {
		return t, err
	}
	if !s.now().Before(t.ExpiresAt) {
		return t, Errorf(ETOKENEXPIRED, "the link expired on %s; ask for a new one", formatExpiry(t.ExpiresAt))
	}
	return t, nil
}

// useToken consumes a one-time token of kind in tx: exactly one caller succeeds.
func (s *Service) useToken(ctx context.Context, tx Tx, kind, prefix, token string) (AccountToken, error) {
	invalid := Errorf(EINVALIDTOKEN, "the link is unknown or was used already")
	t, err := s.liveToken(ctx, tx, kind, prefix, token)
	if err != nil {
		return t, err
	}
	ok, err := tx.DeleteAccountToken(ctx, t.Hash)
	if err != nil {
		return t, err
	}
	if !ok {
		return t, invalid
	}
	return t, nil
}
