package httpapi

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
)

// EventView is one change event of an application's feed.
type EventView struct {
	ID        string          `json:"id" doc:"The event's id: the webhook-id of its deliveries."`
	Sequence  int64           `json:"sequence" doc:"Its place in this application's feed: increasing, in commit order."`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data" doc:"The organization, the actor, the object as the API shows it, and previous values for updates."`
}

type listEventsInput struct {
	AppPath
	After string `query:"after" doc:"The last sequence seen: only later events are listed (0 or empty: from the oldest kept)."`
	Types string `query:"types" doc:"Only these event types, comma-separated."`
	Limit int    `query:"limit" doc:"At most this many (default 50, max 500)."`
	Wait  string `query:"wait" doc:"When nothing is there yet, wait up to this long for an event (\"30s\", or seconds; at most 30s)."`
}

// EventList is a page of a feed; next_cursor is the sequence to pass as after next.
type EventList struct {
	Items      []EventView `json:"items"`
	NextCursor string      `json:"next_cursor" doc:"The sequence to read after next time (the last one listed, or the after given)."`
}

type listEventsOutput struct {
	Body EventList
}

// maxEventWait bounds a long poll of the feed.
const maxEventWait = 30 * time.Second

// eventPoll is how often a long poll rereads the feed besides the relay's signal,
// for events another process numbered.
const eventPoll = time.Second

func (s *Server) listEvents(ctx context.Context, in *listEventsInput) (*listEventsOutput, error) {
	actor, app := actorFrom(ctx), appFrom(ctx)
	q := account.EventQuery{After: in.After, Types: in.Types, Limit: in.Limit}
	var changed <-chan struct{}
	if s.events != nil {
		changed = s.events.Changed()
	}
	// Authorized and validated by the first read, before wait is looked at.
	evs, err := s.svc.FindEvents(ctx, actor, app, in.App, q)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	wait, err := parseWait(in.Wait)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	deadline := time.Now().Add(wait)
	for len(evs) == 0 && time.Until(deadline) > 0 {
		t := time.NewTimer(min(time.Until(deadline), eventPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, s.fail(ctx, ctx.Err())
		case <-changed:
		case <-t.C:
		}
		t.Stop()
		if s.events != nil {
			changed = s.events.Changed()
		}
		if evs, err = s.svc.FindEvents(ctx, actor, app, in.App, q); err != nil {
			return nil, s.fail(ctx, err)
		}
	}
	out := &listEventsOutput{Body: EventList{Items: make([]EventView, len(evs)), NextCursor: in.After}}
	if out.Body.NextCursor == "" {
		out.Body.NextCursor = "0"
	}
	for i, e := range evs {
		out.Body.Items[i] = EventView{ID: e.ID, Sequence: e.Sequence, Type: string(e.Type), Timestamp: e.CreatedAt, Data: e.Data}
		out.Body.NextCursor = strconv.FormatInt(e.Sequence, 10)
	}
	return out, nil
}

// parseWait reads a long poll's wait: a duration ("30s") or whole seconds.
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.Atoi(strings.TrimSpace(s))
		d, err = time.Duration(n)*time.Second, nerr
	}
	if err != nil || d < 0 || d > maxEventWait {
		return 0, account.Invalid("wait", "must be a duration from 0 to 30s (\"30s\", or seconds)")
	}
	return d, nil
}
