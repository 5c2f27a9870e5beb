package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

// SeatRequestView is an organization's request for more seats.
type SeatRequestView struct {
	ID            string          `json:"id"`
	Organization  OrganizationRef `json:"organization"`
	Application   string          `json:"application"`
	Quantity      int             `json:"quantity"`
	Note          string          `json:"note"`
	Status        string          `json:"status" enum:"pending,approved,denied"`
	RequestedBy   ActorView       `json:"requested_by"`
	ApprovedSeats int             `json:"approved_seats"`
	Subscription  *string         `json:"subscription" doc:"The subscription whose quota the approval raised."`
	CreatedAt     time.Time       `json:"created_at"`
	DecidedAt     *time.Time      `json:"decided_at"`
}

func seatRequestView(r account.SeatRequest) SeatRequestView {
	return SeatRequestView{ID: r.ID, Organization: organizationRef(r.Organization), Application: r.ApplicationKey,
		Quantity: r.Quantity, Note: r.Note, Status: string(r.Status),
		RequestedBy: ActorView{ID: r.RequestedBy, Email: r.RequesterEmail}, ApprovedSeats: r.ApprovedSeats,
		Subscription: nullable(r.SubscriptionID), CreatedAt: r.CreatedAt, DecidedAt: nullableTime(r.DecidedAt)}
}

type seatRequestOutput struct {
	Body SeatRequestView
}

func (s *Server) seatRequestOut(ctx context.Context, r account.SeatRequest, err error) (*seatRequestOutput, error) {
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &seatRequestOutput{Body: seatRequestView(r)}, nil
}

type createSeatRequestInput struct {
	OrgPath
	Body struct {
		Application string `json:"application" required:"true" doc:"The application's key."`
		Quantity    int    `json:"quantity" required:"true" doc:"How many more seats."`
		Note        string `json:"note" maxLength:"2000"`
	}
}

func (s *Server) createSeatRequest(ctx context.Context, in *createSeatRequestInput) (*seatRequestOutput, error) {
	r, err := s.svc.RequestSeats(ctx, actorFrom(ctx), in.Org, account.SeatRequestInput{
		Application: in.Body.Application, Quantity: in.Body.Quantity, Note: in.Body.Note})
	return s.seatRequestOut(ctx, r, err)
}

type seatRequestsOutput struct {
	Body List[SeatRequestView]
}

type SeatRequestQuery struct {
	Status string `query:"status" doc:"pending, approved or denied."`
	PageQuery
}

type orgSeatRequestsInput struct {
	OrgPath
	SeatRequestQuery
}

func (s *Server) listOrgSeatRequests(ctx context.Context, in *orgSeatRequestsInput) (*seatRequestsOutput, error) {
	p, err := s.svc.FindOrganizationSeatRequests(ctx, actorFrom(ctx), in.Org, account.SeatRequestQuery{
		Status: in.Status, Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &seatRequestsOutput{Body: listOf(p, seatRequestView)}, nil
}

func (s *Server) listSeatRequests(ctx context.Context, in *SeatRequestQuery) (*seatRequestsOutput, error) {
	p, err := s.svc.FindSeatRequests(ctx, actorFrom(ctx), account.SeatRequestQuery{
		Status: in.Status, Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &seatRequestsOutput{Body: listOf(p, seatRequestView)}, nil
}

type SeatRequestPath struct {
	ID string `path:"id" doc:"The seat request's id."`
}

type approveSeatRequestInput struct {
	SeatRequestPath
	Body *struct {
		Seats int `json:"seats" doc:"How many seats to add; the quantity asked when omitted."`
	}
}

func (s *Server) approveSeatRequest(ctx context.Context, in *approveSeatRequestInput) (*seatRequestOutput, error) {
	seats := 0
	if in.Body != nil {
		seats = in.Body.Seats
	}
	r, err := s.svc.ApproveSeatRequest(ctx, actorFrom(ctx), in.ID, seats)
	return s.seatRequestOut(ctx, r, err)
}

func (s *Server) denySeatRequest(ctx context.Context, in *SeatRequestPath) (*seatRequestOutput, error) {
	r, err := s.svc.DenySeatRequest(ctx, actorFrom(ctx), in.ID)
	return s.seatRequestOut(ctx, r, err)
}
