package httpapi

import (
	"context"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

type signUpInput struct {
	Body struct {
		Email     string `json:"email" required:"true" maxLength:"254"`
		FirstName string `json:"first_name" required:"true" maxLength:"200"`
		LastName  string `json:"last_name" required:"true" maxLength:"200"`
		Password  string `json:"password,omitempty" required:"false" maxLength:"256" doc:"Accepted for compatibility and not used: the password is chosen when the verification link is followed (POST /auth/verify-email), by whoever proves the mailbox."`
	}
}

// signUp emails a verification link; the account exists once it is followed. The
// answer is 202 whether or not the email has an account.
func (s *Server) signUp(ctx context.Context, in *signUpInput) (*struct{}, error) {
	b := in.Body
	return nil, s.fail(ctx, s.SignUp(ctx, account.SignUpInput{Email: b.Email, FirstName: b.FirstName,
		LastName: b.LastName, Password: b.Password}))
}

// SignUp checks a sign-up under the self-service limits and queues it, to be done
// after the answer: what the store does differs for a known and an unknown email, the
// answer must not. The console's form shares it.
func (s *Server) SignUp(ctx context.Context, in account.SignUpInput) error {
	if err := s.AllowSelfService(ctx, in.Email); err != nil {
		return err
	}
	if err := s.svc.CheckSignUp(in); err != nil {
		return err
	}
	ip := httpedge.ClientIP(ctx)
	return s.bg.enqueue(ctx, "sign-up", func(ctx context.Context) error { return s.svc.SignUp(ctx, in, ip) })
}

// RequestPasswordReset checks a password-reset request under the self-service limits
// and queues it, to be done after the answer: only a known email has store work to
// do, and the answer must not show which. The console's form shares it.
func (s *Server) RequestPasswordReset(ctx context.Context, email string) error {
	if err := s.AllowSelfService(ctx, email); err != nil {
		return err
	}
	email, err := account.NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	ip := httpedge.ClientIP(ctx)
	return s.bg.enqueue(ctx, "password reset", func(ctx context.Context) error {
		return s.svc.RequestPasswordReset(ctx, email, ip)
	})
}

// AllowSelfService limits the public requests that send email, per client address
// and per address mailed, so that nobody can flood a mailbox through Roster.
func (s *Server) AllowSelfService(ctx context.Context, email string) error {
	if ok, wait := s.selfIP.Allow(httpedge.ClientIP(ctx)); !ok {
		return rateLimited(ctx, wait, "too many requests from this address; try again later")
	}
	if ok, wait := s.selfEmail.Allow(account.EmailKey(email)); !ok {
		return rateLimited(ctx, wait, "too many emails asked for this address; try again later")
	}
	return nil
}

type verifyEmailInput struct {
	Body struct {
		Token    string `json:"token" required:"true" maxLength:"100" doc:"The token of the verification email's link."`
		Password string `json:"password,omitempty" required:"false" maxLength:"256" doc:"The account's password, chosen on the page the link opens (at least 8 characters). Required: without it the answer is 422 naming password. Whatever the sign-up sent is not used, so that whoever signed up an address they do not own never knows its password."`
	}
}

// verifyEmail follows a sign-up's link with the password the person chooses there.
func (s *Server) verifyEmail(ctx context.Context, in *verifyEmailInput) (*accountOutput, error) {
	a, err := s.svc.VerifyEmail(ctx, in.Body.Token, in.Body.Password, httpedge.ClientIP(ctx))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &accountOutput{}
	out.Body.Account = accountView(a)
	return out, nil
}

type passwordResetInput struct {
	Body struct {
		Email string `json:"email" required:"true" maxLength:"254"`
	}
}

// requestPasswordReset emails a reset link if the email has an active account;
// 202 either way, in the same time (RequestPasswordReset).
func (s *Server) requestPasswordReset(ctx context.Context, in *passwordResetInput) (*struct{}, error) {
	return nil, s.fail(ctx, s.RequestPasswordReset(ctx, in.Body.Email))
}

type confirmPasswordResetInput struct {
	Body struct {
		Token       string `json:"token" required:"true" maxLength:"100" doc:"The token of the reset email's link."`
		NewPassword string `json:"new_password" required:"true" maxLength:"256"`
	}
}

// confirmPasswordReset sets the new password and revokes every session.
func (s *Server) confirmPasswordReset(ctx context.Context, in *confirmPasswordResetInput) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.ResetPassword(ctx, in.Body.Token, in.Body.NewPassword, httpedge.ClientIP(ctx)))
}
