package account

import (
	"context"
	"time"
)

// Store persists the domain. Read runs fn on a reader; Write runs fn in one
// transaction that commits only if fn returns nil, so a use case's change, its audit
// event and (later) its outbox message are written together or not at all. On SQLite
// writes are serialised (one writer, BEGIN IMMEDIATE); on PostgreSQL they are ordinary
// read-committed transactions, and the methods that must be exact under concurrency
// say how they lock.
type Store interface {
	Read(ctx context.Context, fn func(Tx) error) error
	Write(ctx context.Context, fn func(Tx) error) error
}

// CacheEpoch is what a Store implements when what it reads may be kept in memory.
// CacheEpoch returns a number raised after every committed write that can change
// an entitlement check's answer (an account's, a membership's, a seat's, a
// subscription's, an organization's, an application's or its keys' rows), and ok
// while the store vouches for it: no write by this process or any other is missed.
// Answers read at one epoch are good while CacheEpoch still returns that epoch and
// ok; when ok is false nothing may be kept.
type CacheEpoch interface {
	CacheEpoch() (epoch uint64, ok bool)
}

// Tx is the set of queries the use cases run, one interface per aggregate, each
// implemented (and asserted at compile time) in one file of the store. Every method
// that touches tenant data takes the organization id explicitly and filters on it.
// Lookups that find nothing return an *Error with code ENOTFOUND; unique violations
// return ECONFLICT with a Fields entry naming the column's field ("email",
// "username", "slug", "name").
type Tx interface {
	AccountTx
	OrganizationTx
	MemberTx
	RoleTx
	TeamTx
	SessionTx
	SetupTx
	ApplicationTx
	SubscriptionTx
	SeatTx
	SeatRequestTx
	EntitlementTx
	InvitationTx
	JoinRequestTx
	AccountTokenTx
	ImportTx
	BulkTx
	OutboxTx
	SCIMTokenTx
	SCIMUserTx
	SCIMGroupTx
	IdempotencyTx
	AuditTx
	EventTx
	WebhookTx
	DomainTx
	OIDCTx
	OIDCLogoutTx

	// Savepoint runs fn inside a savepoint of the transaction: if fn fails, its writes
	// are rolled back and the transaction goes on (per-item results of bulk requests).
	Savepoint(ctx context.Context, fn func() error) error
}

// AccountTx holds the queries of accounts.
type AccountTx interface {
	AccountByID(ctx context.Context, id string) (Account, error)
	AccountByEmail(ctx context.Context, email string) (Account, error) // case-insensitive
	CreateAccount(ctx context.Context, a Account) error
	UpdateAccount(ctx context.Context, a Account) error // every column but id and created_at
	DeleteAccount(ctx context.Context, id string) error // cascades memberships, teams, sessions
	CountOperators(ctx context.Context) (int, error)
	FirstOperator(ctx context.Context) (Account, error) // the operator created first
	// ActiveOperators lists the operators whose account is active, oldest first:
	// the people the platform's requests (seat requests) are mailed to.
	ActiveOperators(ctx context.Context) ([]Account, error)
}

// OrganizationTx holds the queries of organizations.
type OrganizationTx interface {
	// Organizations. OrganizationByRef accepts an id or a slug.
	OrganizationByRef(ctx context.Context, ref string) (Organization, error)
	CreateOrganization(ctx context.Context, o Organization) error
	UpdateOrganization(ctx context.Context, o Organization) error
	DeleteOrganization(ctx context.Context, id string) error
	CountChildOrganizations(ctx context.Context, partnerID string) (int, error)
	FindOrganizations(ctx context.Context, f OrganizationFilter) ([]Organization, int, error)
	// LockOrganization serialises writers of one organization's invariants (the last
	// owner; later seat quotas): on PostgreSQL it takes the organization row FOR UPDATE
	// until the transaction ends; on SQLite, where writers are already serial, it only
	// checks that the organization exists.
	LockOrganization(ctx context.Context, id string) error
}

// MemberTx holds the queries of memberships and members.
type MemberTx interface {
	// Memberships. MembershipsOfAccount lists every membership of one account with
	// its organization (for /me and for authorization).
	Membership(ctx context.Context, orgID, accountID string) (Membership, error)
	MembershipsOfAccount(ctx context.Context, accountID string) ([]AccountMembership, error)
	CreateMembership(ctx context.Context, m Membership) error
	UpdateMembership(ctx context.Context, m Membership) error // role, state, updated_at
	DeleteMembership(ctx context.Context, orgID, accountID string) error
	Member(ctx context.Context, orgID, accountID string) (Member, error)
	FindMembers(ctx context.Context, f MemberFilter) ([]Member, int, error)
	CountMembers(ctx context.Context, orgID string) (MemberCounts, error)
	// CountMembersWithRole counts memberships of roleID in state (any state when empty).
	CountMembersWithRole(ctx context.Context, orgID, roleID string, state MemberState) (int, error)
}

// RoleTx holds the queries of custom roles.
type RoleTx interface {
	// Roles (custom ones; predefined roles live in code).
	CustomRoles(ctx context.Context, orgID string) ([]Role, error)
	CustomRole(ctx context.Context, orgID, id string) (Role, error)
	// CustomRolesOfAccount lists the custom roles accountID's memberships hold, each
	// in its own organization, by id: what a page names beside every membership.
	CustomRolesOfAccount(ctx context.Context, accountID string) ([]Role, error)
	CreateRole(ctx context.Context, r Role) error
	UpdateRole(ctx context.Context, r Role) error
	DeleteRole(ctx context.Context, orgID, id string) error
}

// TeamTx holds the queries of teams.
type TeamTx interface {
	Teams(ctx context.Context, orgID string) ([]Team, error)
	TeamRefs(ctx context.Context, orgID string) ([]Team, error) // without member counts
	Team(ctx context.Context, orgID, id string) (Team, error)
	CreateTeam(ctx context.Context, t Team) error
	UpdateTeam(ctx context.Context, t Team) error
	DeleteTeam(ctx context.Context, orgID, id string) error
	// SetMemberTeams replaces the member's teams with teamIDs (all of orgID).
	SetMemberTeams(ctx context.Context, orgID, accountID string, teamIDs []string) error
}

// SessionTx holds the queries of sessions.
type SessionTx interface {
	CreateSession(ctx context.Context, s Session) error
	SessionByTokenHash(ctx context.Context, hash []byte) (Session, Account, error)
	DeleteSession(ctx context.Context, id string) error
	// DeleteSessionsOfAccount revokes every session of the account but keepID's.
	DeleteSessionsOfAccount(ctx context.Context, accountID, keepID string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// SetupTx holds the queries of the first operator's setup tokens.
type SetupTx interface {
	// One-time setup tokens for the first operator.
	CreateSetupToken(ctx context.Context, hash []byte, expiresAt time.Time) error
	// ConsumeSetupToken deletes the token and reports whether it existed unexpired.
	ConsumeSetupToken(ctx context.Context, hash []byte, now time.Time) (bool, error)
	// SetupTokenLive reports whether the token exists unexpired, without using it.
	SetupTokenLive(ctx context.Context, hash []byte, now time.Time) (bool, error)
}

// ApplicationTx holds the queries of applications and their API keys.
type ApplicationTx interface {
	// Applications. Application accepts an id or a key.
	Application(ctx context.Context, ref string) (Application, error)
	Applications(ctx context.Context) ([]Application, error) // by key
	CreateApplication(ctx context.Context, a Application) error
	UpdateApplication(ctx context.Context, a Application) error // name, updated_at
	CreateApplicationKey(ctx context.Context, k ApplicationKey) error
	ApplicationKeys(ctx context.Context, applicationID string) ([]ApplicationKey, error) // newest first
	// RevokeApplicationKey sets revoked_at on a key of the application that is not
	// revoked yet (ENOTFOUND otherwise).
	RevokeApplicationKey(ctx context.Context, applicationID, id string, at time.Time) error
	// ApplicationKeyByHash finds an unrevoked key and its application.
	ApplicationKeyByHash(ctx context.Context, hash []byte) (ApplicationKey, Application, error)
	TouchApplicationKey(ctx context.Context, id string, at time.Time) error // last_used_at
}

// SubscriptionTx holds the queries of subscriptions.
type SubscriptionTx interface {
	// Subscriptions of one organization, with Assigned and ApplicationKey filled.
	Subscription(ctx context.Context, orgID, id string) (Subscription, error)
	Subscriptions(ctx context.Context, orgID string) ([]Subscription, error) // by application key, starts_at, id
	CreateSubscription(ctx context.Context, s Subscription) error
	// UpdateSubscription writes seats, ends_at and updated_at. A quota below the
	// assigned count is EQUOTAEXCEEDED (the store's check, whatever the caller checked).
	UpdateSubscription(ctx context.Context, s Subscription) error
}

// SeatTx holds the queries of seats.
type SeatTx interface {
	// Seats. The store keeps each subscription's assigned count and refuses, with
	// EQUOTAEXCEEDED, any change that would put it above the quota — atomically,
	// under any concurrency and from any number of processes. Removing a membership
	// deletes its seats (and lowers the counts).
	// AssignSeat gives the member a seat; it reports false when they held one already.
	AssignSeat(ctx context.Context, orgID, subscriptionID, accountID string, at time.Time) (bool, error)
	// UnassignSeat takes the seat back; it reports false when they held none.
	UnassignSeat(ctx context.Context, orgID, subscriptionID, accountID string) (bool, error)
	// CopySeats gives every holder of from a seat of to (a renewal), returning how many.
	CopySeats(ctx context.Context, orgID, from, to string, at time.Time) (int, error)
}

// SeatRequestTx holds the queries of seat requests.
type SeatRequestTx interface {
	// Seat requests. SeatRequest and FindSeatRequests fill Organization and
	// ApplicationKey. UpdateSeatRequest writes the decision (status, decided_by,
	// approved_seats, subscription_id, decided_at) of a pending request: it locks
	// nothing else, so the caller decides inside the transaction that read it.
	CreateSeatRequest(ctx context.Context, r SeatRequest) error
	SeatRequest(ctx context.Context, id string) (SeatRequest, error)
	UpdateSeatRequest(ctx context.Context, r SeatRequest) error
	FindSeatRequests(ctx context.Context, f SeatRequestFilter) ([]SeatRequest, int, error)
}

// EntitlementTx holds the queries of the entitlement check's reads.
type EntitlementTx interface {
	// Entitlement reads, in one query, what decides whether accountID may use the
	// application in the organization (id or slug): the facts, at any time.
	Entitlement(ctx context.Context, orgRef, accountID, applicationID string) (EntitlementFacts, error)
	// SeatsOfAccount lists every seat accountID holds of the application's
	// subscriptions, in any organization, by organization name.
	SeatsOfAccount(ctx context.Context, accountID, applicationID string) ([]HeldSeat, error)
}

// InvitationTx holds the queries of invitations.
type InvitationTx interface {
	// Invitations. InvitationByTokenHash finds an invitation of any organization by
	// its current token. PendingInvitation is the membership's pending invitation
	// (expired or not). UpdateInvitation writes role_id, token_hash, state,
	// inviter_id, inviter_name, expires_at, updated_at and accepted_at.
	// AcceptInvitation marks the invitation accepted at now if it is still pending
	// with this token and unexpired, and reports whether it did: of two concurrent
	// acceptances exactly one wins.
	CreateInvitation(ctx context.Context, inv Invitation) error
	Invitation(ctx context.Context, orgID, id string) (Invitation, error)
	InvitationByTokenHash(ctx context.Context, hash []byte) (Invitation, error)
	PendingInvitation(ctx context.Context, orgID, accountID string) (Invitation, error)
	UpdateInvitation(ctx context.Context, inv Invitation) error
	AcceptInvitation(ctx context.Context, id string, hash []byte, now time.Time) (bool, error)
	FindInvitations(ctx context.Context, f InvitationFilter) ([]Invitation, int, error)
}

// JoinRequestTx holds the queries of join requests.
type JoinRequestTx interface {
	// Join requests, with Account filled by reads. CreateJoinRequest is ECONFLICT when
	// the account has a pending request for the organization already.
	// UpdateJoinRequest writes state, decided_by, decided_at, invitation_id and
	// updated_at.
	CreateJoinRequest(ctx context.Context, r JoinRequest) error
	JoinRequest(ctx context.Context, orgID, id string) (JoinRequest, error)
	UpdateJoinRequest(ctx context.Context, r JoinRequest) error
	FindJoinRequests(ctx context.Context, f JoinRequestFilter) ([]JoinRequest, int, error)
	// JoinRequestOfAccount returns accountID's own join request id (in any
	// organization), or ENOTFOUND: the requester's view, scoped by the account.
	JoinRequestOfAccount(ctx context.Context, accountID, id string) (JoinRequest, error)
	// JoinRequestsOfAccount lists accountID's join requests in every organization,
	// newest first, with Organization filled: the pending ones and those updated at
	// or after since, at most limit.
	JoinRequestsOfAccount(ctx context.Context, accountID string, since time.Time, limit int) ([]JoinRequest, error)
	// ActiveMembersWithRoles lists the accounts of orgID's active members holding one
	// of roleIDs (whom to tell about a join request), by email.
	ActiveMembersWithRoles(ctx context.Context, orgID string, roleIDs []string) ([]Account, error)
}

// AccountTokenTx holds the queries of one-time account tokens.
type AccountTokenTx interface {
	// One-time account tokens (sign-up verification, password reset).
	// AccountToken finds one of kind by hash, expired or not. DeleteAccountToken
	// reports whether it deleted it (of two concurrent uses exactly one does).
	CreateAccountToken(ctx context.Context, t AccountToken) error
	AccountToken(ctx context.Context, kind string, hash []byte) (AccountToken, error)
	DeleteAccountToken(ctx context.Context, hash []byte) (bool, error)
	DeleteAccountTokens(ctx context.Context, kind, accountID string) error
	// DeleteAccountTokensOfEmail deletes the tokens of kind of no account sent to
	// email (a sign-up's, which store the address's EmailKey).
	DeleteAccountTokensOfEmail(ctx context.Context, kind, email string) error
	DeleteExpiredAccountTokens(ctx context.Context, now time.Time) (int, error)
}

// ImportTx holds the queries of imports.
type ImportTx interface {
	// Imports. CreateImport stores the job with its uploaded file; ImportFile reads
	// the file back. ClaimImport gives owner the oldest queued or running import
	// whose lease has lapsed (LeaseUntil <= now), setting LeaseOwner, LeaseUntil =
	// until and state running; ENOTFOUND when there is none (on PostgreSQL it skips
	// rows locked by another claimer). UpdateImport writes state, total, processed,
	// the counters, error, lease_until, updated_at and finished_at, only while
	// imp.LeaseOwner still holds the lease: it reports false when another runner took
	// the job over. ImportErrors lists a job's rejected rows by row, after afterRow.
	CreateImport(ctx context.Context, imp Import, file []byte) error
	Import(ctx context.Context, orgID, id string) (Import, error)
	ImportFile(ctx context.Context, id string) ([]byte, error)
	ClaimImport(ctx context.Context, owner string, now, until time.Time) (Import, error)
	UpdateImport(ctx context.Context, imp Import) (bool, error)
	InsertImportErrors(ctx context.Context, errs []ImportError) error
	ImportErrors(ctx context.Context, importID string, afterRow, limit int) ([]ImportError, error)
	FindImports(ctx context.Context, orgID, before string, limit int) ([]Import, error) // newest first
	CountImports(ctx context.Context, orgID string) (int, error)
}

// BulkTx holds the queries of the bulk reads and writes of imports.
type BulkTx interface {
	// Bulk reads and writes for imports. The writes insert many rows with multi-row
	// INSERTs; any violation fails the whole call (run it in a Savepoint to fall back
	// to one row at a time). CreateMemberships takes the accounts of the memberships,
	// in the same order, for the search text. AccountsByEmails takes email keys.
	AccountsByEmails(ctx context.Context, emailKeys []string) ([]Account, error)
	MembershipsOfAccounts(ctx context.Context, orgID string, accountIDs []string) ([]Membership, error)
	CreateAccounts(ctx context.Context, as []Account) error
	CreateMemberships(ctx context.Context, ms []Membership, accounts []Account) error
	AddTeamMembers(ctx context.Context, orgID string, members []TeamMember) error
	CreateInvitations(ctx context.Context, invs []Invitation) error
	EnqueueEmails(ctx context.Context, es []Email) error
	InsertAudits(ctx context.Context, es []AuditEvent) error
}

// OutboxTx holds the queries of the outbox.
type OutboxTx interface {
	// EnqueueEmail writes an email to the outbox, pending from e.CreatedAt.
	EnqueueEmail(ctx context.Context, e Email) error
	// The outbox as the operator sees it: FindEmails lists messages newest first (by
	// id), CountEmails counts them by state (every state present), RetryEmail puts a
	// failed message back to pending, due at now (any other message is ENOTFOUND).
	FindEmails(ctx context.Context, f OutboxFilter) ([]OutboxMessage, error)
	CountEmails(ctx context.Context) (map[OutboxState]int, error)
	RetryEmail(ctx context.Context, id string, now time.Time) error
}

// SCIMTokenTx holds the queries of SCIM tokens.
type SCIMTokenTx interface {
	// SCIM tokens. SCIMTokenByHash finds an unrevoked token of any organization.
	// RevokeSCIMToken sets revoked_at on an unrevoked token of orgID (ENOTFOUND
	// otherwise).
	CreateSCIMToken(ctx context.Context, t SCIMToken) error
	SCIMTokens(ctx context.Context, orgID string) ([]SCIMToken, error) // newest first
	RevokeSCIMToken(ctx context.Context, orgID, id string, at time.Time) error
	SCIMTokenByHash(ctx context.Context, hash []byte) (SCIMToken, error)
	TouchSCIMToken(ctx context.Context, id string, at time.Time) error
}

// SCIMUserTx holds the queries of SCIM users.
type SCIMUserTx interface {
	// SCIM users: members with their SCIM data. FindSCIMUsers compiles q.Filter into
	// one query (EINVALID naming "filter" for a filter it cannot compile) and returns
	// the page, in account id order, and the number of matches. PutSCIMUser writes a
	// member's SCIM data (ECONFLICT when its userName is another member's).
	SCIMUser(ctx context.Context, orgID, accountID string) (SCIMUser, error)
	SCIMUserByName(ctx context.Context, orgID, userName string) (SCIMUser, error) // case-insensitive
	FindSCIMUsers(ctx context.Context, q SCIMQuery) ([]SCIMUser, int, error)
	PutSCIMUser(ctx context.Context, d SCIMUserData) error
}

// SCIMGroupTx holds the queries of SCIM groups.
type SCIMGroupTx interface {
	// SCIM groups: teams with their members and externalId. PutSCIMGroup records a
	// change of the team at at, and its externalId unless that is nil.
	SCIMGroup(ctx context.Context, orgID, teamID string) (SCIMGroup, error)
	FindSCIMGroups(ctx context.Context, q SCIMQuery) ([]SCIMGroup, int, error)
	PutSCIMGroup(ctx context.Context, orgID, teamID string, externalID *string, at time.Time) error
	RemoveTeamMembers(ctx context.Context, orgID, teamID string, accountIDs []string) error
	// SetSCIMMemberDisplays keeps the names the identity provider gave members of a
	// team (Value an account id in the team, Display the name).
	SetSCIMMemberDisplays(ctx context.Context, teamID string, members []SCIMValue) error
}

// IdempotencyTx holds the queries of idempotency keys (idempotency.go), of one
// caller each. InsertIdempotencyKey reports false when the caller has the key
// already; IdempotencyKey reads it and, on PostgreSQL, locks it until the
// transaction ends; ReplaceIdempotencyKey overwrites every column.
// CompleteIdempotencyKey records the answer and DeleteIdempotencyKey drops a key not
// applied, both only while owner holds it.
type IdempotencyTx interface {
	InsertIdempotencyKey(ctx context.Context, k IdempotencyKey) (bool, error)
	IdempotencyKey(ctx context.Context, caller string, keyHash []byte) (IdempotencyKey, error)
	ReplaceIdempotencyKey(ctx context.Context, k IdempotencyKey) error
	CompleteIdempotencyKey(ctx context.Context, caller string, keyHash []byte, owner string, answer []byte) error
	DeleteIdempotencyKey(ctx context.Context, caller string, keyHash []byte, owner string) error
	DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int, error)
}

// AuditTx holds the queries of the audit log.
type AuditTx interface {
	InsertAudit(ctx context.Context, e AuditEvent) error
	FindAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	CountAudit(ctx context.Context, orgID string) (int, error) // orgID "" counts platform events
}

// TeamMember puts one account in one team.
type TeamMember struct {
	TeamID    string
	AccountID string
}

// AccountMembership is a membership seen from its account, with its organization.
type AccountMembership struct {
	Membership
	Organization Organization
	Teams        []string
	Seats        []MemberSeat
}

// OrganizationFilter selects organizations. VisibleTo, when set, limits the result to
// organizations where that account holds an active membership, and the organizations
// under partners where it does.
type OrganizationFilter struct {
	Q         string // substring of name or slug, case-insensitive
	Kind      OrgKind
	ParentID  string
	VisibleTo string
	After     string // keyset: organizations with id > After
	Limit     int
	SkipTotal bool // the total is not counted (0), as where only the page is shown
}

// MemberFilter selects members of one organization, ordered by account id.
type MemberFilter struct {
	OrgID    string
	Q        string // substring of email, username, first or last name, case-insensitive
	RoleID   string
	TeamName string // case-insensitive
	State    MemberState
	// ApplicationID, SubscriptionID: only members holding a seat of that application
	// (of any of its subscriptions) or of that subscription.
	ApplicationID  string
	SubscriptionID string
	After          string // keyset: members with account id > After
	Limit          int
	// SkipTotal skips counting the matches (FindMembers then returns -1): later pages
	// reuse the first page's count.
	SkipTotal bool
}

// AuditFilter selects an organization's audit events, newest first.
type AuditFilter struct {
	OrgID  string // empty: platform-wide events (operator)
	Before string // keyset: events with id < Before
	Limit  int
}
