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
	return nil, s.fail(ctx, s.limits.SignUp(ctx, account.SignUpInput{Email: b.Email, FirstName: b.FirstName,
		LastName: b.LastName, Password: b.Password}))
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
// 202 either way, in the same time (limits.Limits.RequestPasswordReset).
func (s *Server) requestPasswordReset(ctx context.Context, in *passwordResetInput) (*struct{}, error) {
	return nil, s.fail(ctx, s.limits.RequestPasswordReset(ctx, in.Body.Email))
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
