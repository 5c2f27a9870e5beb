package httpapi

import (
	"context"

	"roster.dev/roster/internal/account"
)

type updateMeInput struct {
	Body struct {
		FirstName *string `json:"first_name,omitempty"`
		LastName  *string `json:"last_name,omitempty"`
		Phone     *string `json:"phone,omitempty" doc:"E.164, e.g. +14155550100; empty removes it."`
		Username  *string `json:"username,omitempty" doc:"Empty removes it."`
	}
}

// updateMe changes the caller's own profile: the person's, in every organization.
func (s *Server) updateMe(ctx context.Context, in *updateMeInput) (*accountOutput, error) {
	b := in.Body
	a, err := s.svc.UpdateProfile(ctx, actorFrom(ctx), account.ProfileInput{
		FirstName: b.FirstName, LastName: b.LastName, Phone: b.Phone, Username: b.Username})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &accountOutput{}
	out.Body.Account = accountView(a)
	return out, nil
}
