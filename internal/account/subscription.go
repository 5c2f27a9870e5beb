package account

import "time"

// Application is something the vendor sells, addressed by its key (e.g. "studio").
type Application struct {
	ID        string
	Key       string // lower-case letters, digits and dashes; unique
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ApplicationKey is an API key of an application: it authenticates the
// application-facing endpoints only. Only the key's SHA-256 is stored.
type ApplicationKey struct {
	ID            string
	ApplicationID string
	Name          string
	Hash          []byte
	Prefix        string // the key's first characters, to tell keys apart in lists
	CreatedAt     time.Time
	LastUsedAt    time.Time // zero when never used
	RevokedAt     time.Time // zero while valid
}

// Subscription is an organization's entry for one application: a seat quota over a
// period. Several may exist for one application (renewals, overlaps).
type Subscription struct {
	ID             string
	OrgID          string
	ApplicationID  string
	ApplicationKey string // filled by reads
	Seats          int    // the quota
	Assigned       int    // seats held; never above Seats (the store enforces it)
	StartsAt       time.Time
	EndsAt         time.Time
	RenewedFrom    string // the subscription this one renewed, or empty
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// SubscriptionState is derived from the dates.
type SubscriptionState string

const (
	SubscriptionUpcoming SubscriptionState = "upcoming"
	SubscriptionActive   SubscriptionState = "active"
	SubscriptionExpired  SubscriptionState = "expired"
)

// The badges of a subscription.
const (
	BadgeStartingSoon = "starting_soon"
	BadgeEndingSoon   = "ending_soon"
)

// State is upcoming before StartsAt, active from StartsAt until EndsAt, then expired.
func (s Subscription) State(now time.Time) SubscriptionState {
	switch {
	case now.Before(s.StartsAt):
		return SubscriptionUpcoming
	case now.Before(s.EndsAt):
		return SubscriptionActive
	}
	return SubscriptionExpired
}

// Badges are starting_soon within windowDays before the start, and ending_soon
// within windowDays before the end (while active).
func (s Subscription) Badges(now time.Time, windowDays int) []string {
	window := time.Duration(windowDays) * 24 * time.Hour
	badges := []string{}
	switch s.State(now) {
	case SubscriptionUpcoming:
		if s.StartsAt.Sub(now) <= window {
			badges = append(badges, BadgeStartingSoon)
		}
	case SubscriptionActive:
		if s.EndsAt.Sub(now) <= window {
			badges = append(badges, BadgeEndingSoon)
		}
	}
	return badges
}

// Available is the number of seats left.
func (s Subscription) Available() int { return max(0, s.Seats-s.Assigned) }

// MemberSeat is a seat a member holds.
type MemberSeat struct {
	SubscriptionID string
	ApplicationKey string
}
