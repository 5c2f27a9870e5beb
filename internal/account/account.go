// Package account is Roster's domain: accounts, organizations, memberships, roles,
// teams and the audit trail, with every business rule and the use cases that apply
// them. It knows nothing of HTTP or SQL: storage is the Store interface below,
// implemented by internal/sqlstore.
package account

import "time"

// AccountState is the life cycle of a person's global account.
type AccountState string

const (
	AccountPending  AccountState = "pending"  // invited, never activated
	AccountActive   AccountState = "active"   // may log in
	AccountDisabled AccountState = "disabled" // disabled by an operator
)

// Account is one person, global across organizations.
type Account struct {
	ID                string
	Email             string // as given; compared case-insensitively through EmailKey
	Username          string // optional, unique case-insensitively
	FirstName         string
	LastName          string
	Phone             string // E.164 or empty
	State             AccountState
	MustResetPassword bool
	Operator          bool
	PasswordHash      string // PHC-encoded argon2id; empty for an account without a password
	// ManagedBy is the organization that manages the account (see Manages), or empty.
	ManagedBy string
	// EmailVerified says the person proved the mailbox: accepted an emailed
	// invitation, followed a sign-up's link, or completed a password reset.
	EmailVerified bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// OrgKind is a tenant node's kind.
type OrgKind string

const (
	KindPartner      OrgKind = "partner"
	KindOrganization OrgKind = "organization"
)

// Organization is a tenant: a partner, or an organization (optionally under a partner).
type Organization struct {
	ID                 string
	Kind               OrgKind
	ParentID           string // a partner's id, or empty
	Name               string
	Slug               string
	InvitationTTLHours int
	EndingSoonDays     int
	// SCIMActivationEmail sends the people SCIM provisions with a new account a link
	// to set their password (on by default).
	SCIMActivationEmail bool
	// RequirePhone and RequireUsername are the profile fields the organization
	// requires of the people it adds with a profile (required_profile_fields; see
	// RequiredFields): off by default.
	RequirePhone    bool
	RequireUsername bool
	// DomainJoinPolicy is what people whose email is at one of the organization's
	// verified domains may do (JoinPolicyOff, JoinPolicySuggest, JoinPolicyAuto);
	// DomainJoinRole is the role auto gives them.
	DomainJoinPolicy string
	DomainJoinRole   string
	// ManageDomainAccounts makes the organization manage the accounts whose email is
	// at one of its verified domains (manage_domain_accounts; see ManagingDomain).
	ManageDomainAccounts bool
	// ManagedDomains are the organization's verified domains while
	// ManageDomainAccounts is on, read from the domains in the transaction that
	// authorized the caller (authorize): not a stored column, so that removing a
	// domain or turning the setting off ends the management at once. Empty
	// wherever the organization was read otherwise, which manages nothing by domain.
	ManagedDomains []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// The profile fields an organization may require (required_profile_fields).
const (
	ProfilePhone    = "phone"
	ProfileUsername = "username"
)

// RequiredFields returns the profile fields the organization requires, in the order
// phone, username; empty when it requires none.
func (o Organization) RequiredFields() []string {
	fs := []string{}
	if o.RequirePhone {
		fs = append(fs, ProfilePhone)
	}
	if o.RequireUsername {
		fs = append(fs, ProfileUsername)
	}
	return fs
}

// Default organization settings.
const (
	DefaultInvitationTTLHours = 168
	DefaultEndingSoonDays     = 30
)

// MemberState is the life cycle of a membership.
type MemberState string

const (
	MemberInvited     MemberState = "invited"
	MemberActive      MemberState = "active"
	MemberDeactivated MemberState = "deactivated"
)

// Membership is an account in an organization, with one role.
type Membership struct {
	OrgID     string
	AccountID string
	RoleID    string
	State     MemberState
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Member is a membership with its account and the names of its teams.
type Member struct {
	Membership
	Account Account
	Teams   []string     // team names, sorted case-insensitively
	Seats   []MemberSeat // ordered by application key, then subscription id
	// Invitation is the pending invitation of an invited member (nil otherwise).
	Invitation *Invitation
	// Managed says the organization manages the account (see Manages): set by the
	// use cases that return members.
	Managed bool
}

// Role is a named set of permissions: predefined (OrgID empty) or custom to one organization.
type Role struct {
	ID          string
	OrgID       string
	Name        string
	Permissions PermissionSet
	Active      bool
	Predefined  bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Team is a named group of members inside one organization.
type Team struct {
	ID        string
	OrgID     string
	Name      string
	Members   int // filled by listings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Session is a login: the bearer token's SHA-256 is stored, never the token.
type Session struct {
	ID        string
	AccountID string
	TokenHash []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	IP        string
	UserAgent string
}

// AuditEvent records who did what to whom, when, from where, before and after.
type AuditEvent struct {
	ID         string // time-ordered
	OrgID      string // empty for platform-wide events
	ActorID    string // empty for the system
	ActorEmail string // kept so the trail survives the actor's deletion
	Action     string // e.g. "member.added"
	TargetType string // "account", "organization", "role", "team", "session"
	TargetID   string
	Before     []byte // JSON object or nil
	After      []byte // JSON object or nil
	IP         string
	CreatedAt  time.Time
}

// MemberCounts are the membership totals of an organization by state.
type MemberCounts struct {
	Total, Active, Invited, Deactivated int
}
