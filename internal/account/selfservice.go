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
)

// SignUpInput is POST /auth/signup.
type SignUpInput struct {
	Email, FirstName, LastName, Password string
}

// signUpData is what a verification token carries until the email is proven.
type signUpData struct {
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	PasswordHash string `json:"password_hash"`
}

// SignUp starts an organization-independent account: it emails a verification link,
// and the account exists only once the link is followed (VerifyEmail). The answer
// is the same whether or not the email has an account: an active account is told by
// email that it exists already; a disabled one gets nothing. Errors: EINVALID,
// EFORBIDDEN (sign-up is disabled on this server).
func (s *Service) SignUp(ctx context.Context, in SignUpInput, ip string) (err error) {
	defer wrap(&err, "SignUp")
	if s.disableSignUp {
		return Errorf(EFORBIDDEN, "sign-up is disabled on this server; ask an administrator for an invitation")
	}
	email, errE := NormalizeEmail("email", in.Email)
	first, errF := NormalizeName("first_name", in.FirstName, true)
	last, errL := NormalizeName("last_name", in.LastName, true)
	if err := collect(errE, errF, errL, CheckPassword("password", in.Password)); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	data, err := json.Marshal(signUpData{FirstName: first, LastName: last, PasswordHash: hash})
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
		token, tokenHash := s.newToken(verifyPrefix)
		now := s.now()
		t := AccountToken{Hash: tokenHash, Kind: TokenVerifyEmail, Email: email, Data: data,
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
		return s.audit(ctx, tx, Actor{IP: ip}, "", "account.signup_requested", "email", email, nil, nil)
	})
}

// VerifyEmail follows a sign-up's verification link, once: the account is created
// active (or, if it was invited and never activated, activated) with the names and
// password of the sign-up. Errors: EINVALIDTOKEN (unknown or used), ETOKENEXPIRED,
// ECONFLICT (the email has an active account already), EFORBIDDEN (disabled).
func (s *Service) VerifyEmail(ctx context.Context, token, ip string) (a Account, err error) {
	defer wrap(&err, "VerifyEmail")
	err = s.store.Write(ctx, func(tx Tx) error {
		t, err := s.useToken(ctx, tx, TokenVerifyEmail, verifyPrefix, token)
		if err != nil {
			return err
		}
		var d signUpData
		if err := json.Unmarshal(t.Data, &d); err != nil {
			return err
		}
		now := s.now()
		a, err = tx.AccountByEmail(ctx, EmailKey(t.Email))
		before := map[string]any(nil)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			a = Account{ID: s.ids.New(), Email: t.Email, FirstName: d.FirstName, LastName: d.LastName,
				State: AccountActive, PasswordHash: d.PasswordHash, EmailVerified: true, CreatedAt: now, UpdatedAt: now}
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
			a.FirstName, a.LastName, a.PasswordHash, a.State, a.UpdatedAt = d.FirstName, d.LastName, d.PasswordHash, AccountActive, now
			claim(&a) // the sign-up's link proved the mailbox
			if err := tx.UpdateAccount(ctx, a); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, Actor{Account: a, IP: ip}, "", "account.signed_up", "account", a.ID, before, accountState(a))
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
		return s.audit(ctx, tx, Actor{IP: ip}, "", "account.password_reset_requested", "account", acct.ID, nil, nil)
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
			if err := s.audit(ctx, tx, Actor{Account: a, IP: ip}, "", "account.claimed", "account", a.ID, before, accountState(a)); err != nil {
				return err
			}
		}
		if err := tx.DeleteSessionsOfAccount(ctx, a.ID, ""); err != nil {
			return err
		}
		if err := tx.DeleteAccountTokens(ctx, TokenPasswordReset, a.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, Actor{Account: a, IP: ip}, "", "account.password_reset", "account", a.ID, nil, nil)
	})
}

// useToken consumes a one-time token of kind in tx: exactly one caller succeeds.
func (s *Service) useToken(ctx context.Context, tx Tx, kind, prefix, token string) (AccountToken, error) {
	invalid := Errorf(EINVALIDTOKEN, "the link is unknown or was used already")
	if len(token) <= len(prefix) || len(token) > 100 || token[:len(prefix)] != prefix {
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
	ok, err := tx.DeleteAccountToken(ctx, t.Hash)
	if err != nil {
		return t, err
	}
	if !ok {
		return t, invalid
	}
	return t, nil
}
