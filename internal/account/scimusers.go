package account

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// scimNoMailDomain is the domain of the addresses Roster gives the accounts of SCIM
// users who have no address of their own (RFC 2606 reserves .invalid): nothing is
// ever mailed to them.
const scimNoMailDomain = "scim.invalid"

// NoMailAddress reports whether email is one Roster gave an account that has no
// address of its own: never mailed, never shown as the person's address.
func NoMailAddress(email string) bool {
	return strings.HasSuffix(EmailKey(email), "@"+scimNoMailDomain)
}

// SCIMValue is one value of a multi-valued SCIM attribute (emails, phoneNumbers) or a
// group's member.
type SCIMValue struct {
	Value   string
	Type    string
	Display string
	Primary bool
}

// SCIMUserData is what an organization's identity provider says of one member beyond
// the account: kept per membership, so two organizations may describe one person
// differently.
type SCIMUserData struct {
	OrgID          string
	AccountID      string
	UserName       string // unique in the organization, case-insensitively
	ExternalID     string
	DisplayName    string
	GivenName      string // as the identity provider gave it
	FamilyName     string //
	Formatted      string // the whole name, formatted
	Emails         []SCIMValue
	Phones         []SCIMValue
	Department     string
	EmployeeNumber string
	Manager        string // the manager's id as the identity provider gave it
	Extra          []byte // JSON object of the other attributes, kept verbatim
	UpdatedAt      time.Time
}

// SCIMUser is a member as SCIM shows it. Data is zero (Data.AccountID empty) for a
// member that no identity provider has described: its user name is then the account's
// email.
type SCIMUser struct {
	Member
	Data SCIMUserData
}

// UserName is the member's user name: the identity provider's, else the account's email.
func (u SCIMUser) UserName() string {
	if u.Data.UserName != "" {
		return u.Data.UserName
	}
	return u.Account.Email
}

// LastModified is the later of the membership's and the SCIM data's update.
func (u SCIMUser) LastModified() time.Time {
	if u.Data.UpdatedAt.After(u.UpdatedAt) {
		return u.Data.UpdatedAt
	}
	return u.UpdatedAt
}

// SCIMUserInput is a SCIM User as an identity provider sends it (POST, PUT, or the
// result of a PATCH).
type SCIMUserInput struct {
	SCIMUserData
	Active bool
	Role   string // a role id; empty keeps the current role (member for a new one)
}

// validate checks what SCIM requires and bounds the rest.
func (in *SCIMUserInput) validate() error {
	var v Validation
	in.UserName = strings.TrimSpace(in.UserName)
	switch {
	case in.UserName == "":
		v.Add(string(FieldUserName), "is required")
	case len(in.UserName) > maxEmailLen:
		v.Add(string(FieldUserName), "is too long")
	case !printable(in.UserName):
		v.Add(string(FieldUserName), "holds control characters")
	}
	for _, vs := range [][]SCIMValue{in.Emails, in.Phones} {
		for _, x := range vs {
			if !printable(x.Value+x.Type+x.Display) || len(x.Value) > maxEmailLen || len(x.Type)+len(x.Display) > 2*maxNameLen {
				v.Add("emails", "holds a value that is too long or has control characters")
			}
		}
	}
	for _, f := range []struct {
		name Field
		val  *string
	}{{FieldExternalID, &in.ExternalID}, {FieldDisplayName, &in.DisplayName}, {FieldGivenName, &in.GivenName},
		{FieldFamilyName, &in.FamilyName}, {FieldFormattedName, &in.Formatted}, {FieldDepartment, &in.Department},
		{FieldEmployeeNumber, &in.EmployeeNumber}, {"manager", &in.Manager}} {
		n, err := NormalizeName(string(f.name), *f.val, false)
		addErr(&v, err)
		*f.val = n
	}
	if len(in.Emails) > 20 || len(in.Phones) > 20 || len(in.Extra) > 16<<10 {
		v.Add("emails", "too many values")
	}
	return v.Err()
}

// printable reports whether s is valid UTF-8 without control characters, which no
// store keeps the same way.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// primaryEmail is the address to give a new account: the user name when it is one
// (ofUserName), else the primary (or first) valid address of emails.
func (in SCIMUserInput) primaryEmail() (email string, ofUserName bool) {
	if e, err := NormalizeEmail(string(FieldUserName), in.UserName); err == nil {
		return e, true
	}
	emails := slices.Clone(in.Emails)
	slices.SortStableFunc(emails, func(a, b SCIMValue) int {
		switch {
		case a.Primary == b.Primary:
			return 0
		case a.Primary:
			return -1
		}
		return 1
	})
	for _, e := range emails {
		if addr, err := NormalizeEmail(string(FieldEmails), e.Value); err == nil {
			return addr, false
		}
	}
	return "", false
}

// CreateSCIMUser provisions a member: the account of the user name (when it is an
// email address) or of the primary email joins the organization, or a new account is
// created, which is sent a link to set its password. When the primary email's account
// is a member already (identity providers may give several users one address), the
// new user gets an account of its own that is never mailed. Needs members.invite and
// the role within the actor's permissions. Errors: EINVALID, EFORBIDDEN,
// EROLECEILING, ECONFLICT (the user name taken, field FieldUserName), EDUPLICATEEMAIL.
func (s *Service) CreateSCIMUser(ctx context.Context, actor Actor, orgRef string, in SCIMUserInput) (u SCIMUser, err error) {
	defer wrap(&err, "CreateSCIMUser(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermMembersInvite); err != nil {
		return u, err
	}
	if err := in.validate(); err != nil {
		return u, err
	}
	email, ofUserName := in.primaryEmail()
	err = s.writeIn(ctx, actor, orgRef, PermMembersInvite, func(tx Tx, a access) error {
		role, err := s.assignableRole(ctx, tx, a, "roles", in.Role)
		if err != nil {
			return err
		}
		if _, err := tx.SCIMUserByName(ctx, a.org.ID, in.UserName); err == nil {
			return scimUserNameTaken(in.UserName)
		} else if ErrorCode(err) != ENOTFOUND {
			return err
		}
		var existing Account
		if email != "" {
			existing, err = tx.AccountByEmail(ctx, EmailKey(email))
			if err != nil && ErrorCode(err) != ENOTFOUND {
				return err
			}
		}
		if existing.ID != "" {
			if _, err := tx.Membership(ctx, a.org.ID, existing.ID); err == nil {
				if ofUserName {
					return &Error{Code: EDUPLICATEEMAIL, Message: email + " is already a member of " + a.org.Name,
						Fields: []FieldError{{Field: string(FieldUserName), Message: "is already a member of this organization"}}}
				}
				existing, email = Account{}, "" // the address is someone else's here
			} else if ErrorCode(err) != ENOTFOUND {
				return err
			}
		}
		now := s.now()
		var fresh Account
		if existing.ID == "" {
			id := s.ids.New()
			mailTo := email
			if mailTo == "" {
				mailTo = strings.ToLower(id) + "@" + scimNoMailDomain
			}
			fresh = Account{ID: id, Email: mailTo, FirstName: in.GivenName, LastName: in.FamilyName,
				State: AccountActive, CreatedAt: now, UpdatedAt: now}
			if fresh.Phone, fresh.Username, err = scimRequiredProfile(a.org, in); err != nil {
				return err
			}
		}
		// A new account, or one the organization manages, is an active member at once;
		// anyone else is invited (no silent linking): an inactive user's invitation
		// waits until the identity provider activates it.
		offer := activeMember{email: cmp.Or(email, fresh.Email), fresh: fresh, role: role, hold: !in.Active, fieldName: scimField}
		var m Member
		switch {
		case existing.ID != "" && existing.State == AccountDisabled:
			err = disabledAccount(email)
		case existing.ID == "", Manages(a.org, existing):
			m, err = s.addActive(ctx, tx, actor, a, existing, offer)
		default:
			m, _, err = s.invite(ctx, tx, actor, a, offer)
		}
		if err != nil {
			return err
		}
		if !in.Active && m.State == MemberActive {
			if m, err = s.changeState(ctx, tx, actor, a, m, MemberDeactivated); err != nil {
				return err
			}
		}
		in.OrgID, in.AccountID, in.UpdatedAt = a.org.ID, m.AccountID, now
		if err := s.putSCIMData(ctx, tx, actor, SCIMUserData{}, in.SCIMUserData); err != nil {
			return err
		}
		if fresh.ID != "" && email != "" && a.org.SCIMActivationEmail {
			if err := s.sendActivation(ctx, tx, a.org, actor, m.Account); err != nil {
				return err
			}
		}
		u, err = tx.SCIMUser(ctx, a.org.ID, m.AccountID)
		u.Member = redact(actor, a.org, u.Member)
		return err
	})
	return u, err
}

func scimUserNameTaken(name string) error {
	return &Error{Code: ECONFLICT, Message: "the user name " + quote(name) + " is taken in this organization",
		Fields: []FieldError{{Field: string(FieldUserName), Message: "is taken"}}}
}

// sendActivation mails a new account its activation email: the organization created
// an account for the person, with a link to set its password, valid as long as the
// organization's invitations.
func (s *Service) sendActivation(ctx context.Context, tx Tx, org Organization, actor Actor, acct Account) error {
	token, hash := s.newToken(resetPrefix)
	now := s.now()
	ttl := time.Duration(org.InvitationTTLHours) * time.Hour
	if ttl <= 0 {
		ttl = DefaultInvitationTTLHours * time.Hour
	}
	t := AccountToken{Hash: hash, Kind: TokenPasswordReset, AccountID: acct.ID, Email: acct.Email,
		ExpiresAt: now.Add(ttl), CreatedAt: now}
	if err := tx.CreateAccountToken(ctx, t); err != nil {
		return err
	}
	n := s.notice(NoticeActivation, org, actor, Member{Account: acct})
	n.Expires = formatExpiry(t.ExpiresAt)
	n.Link, n.Secret = s.baseURL+"/password-reset/"+token, token
	return s.notify(ctx, tx, org.ID, n)
}

// putSCIMData stores the SCIM data of a member and audits what changed.
func (s *Service) putSCIMData(ctx context.Context, tx Tx, actor Actor, before, after SCIMUserData) error {
	if err := tx.PutSCIMUser(ctx, after); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return scimUserNameTaken(after.UserName)
		}
		return err
	}
	b, a := diff(scimState(before), scimState(after))
	if len(b) == 0 && len(a) == 0 {
		return nil
	}
	return s.audit(ctx, tx, actor, after.OrgID, AuditMemberSCIMUpdated, "account", after.AccountID, b, a)
}

// sameSCIMData reports whether a and b say the same of a member.
func sameSCIMData(a, b SCIMUserData) bool {
	return a.UserName == b.UserName && a.ExternalID == b.ExternalID && a.DisplayName == b.DisplayName &&
		a.GivenName == b.GivenName && a.FamilyName == b.FamilyName && a.Formatted == b.Formatted &&
		slices.Equal(a.Emails, b.Emails) && slices.Equal(a.Phones, b.Phones) && a.Department == b.Department &&
		a.EmployeeNumber == b.EmployeeNumber && a.Manager == b.Manager && extraJSON(a.Extra) == extraJSON(b.Extra)
}

// extraJSON is the stored form of SCIMUserData.Extra: none is an empty object.
func extraJSON(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

func scimState(d SCIMUserData) map[string]any {
	if d.AccountID == "" {
		return map[string]any{}
	}
	emails := make([]string, len(d.Emails))
	for i, e := range d.Emails {
		emails[i] = e.Value
	}
	phones := make([]string, len(d.Phones))
	for i, p := range d.Phones {
		phones[i] = p.Value
	}
	return map[string]any{"user_name": d.UserName, "external_id": d.ExternalID, "display_name": d.DisplayName,
		"given_name": d.GivenName, "family_name": d.FamilyName, "formatted_name": d.Formatted, "emails": emails, "phones": phones, "department": d.Department,
		"employee_number": d.EmployeeNumber, "manager": d.Manager}
}

// ReplaceSCIMUser applies a whole SCIM User to a member: names (through the same
// rules as UpdateMember), role, active (deactivate or reactivate, with their
// emails), and the SCIM data. Needs members.manage, and the member within the
// actor's permissions. Errors: as UpdateMember, and ECONFLICT for a user name taken
// or for deactivating a member who has not accepted an invitation.
func (s *Service) ReplaceSCIMUser(ctx context.Context, actor Actor, orgRef, accountID string, in SCIMUserInput) (SCIMUser, error) {
	return s.patchSCIMUser(ctx, actor, orgRef, accountID, func(SCIMUser) (SCIMUserInput, error) { return in, nil }, true)
}

// PatchSCIMUser is ReplaceSCIMUser with the new User computed by change from the
// member's current one, in the same transaction, which holds the organization's
// lock: concurrent PATCH requests apply one after the other and lose nothing. An
// error of change is returned as it is.
func (s *Service) PatchSCIMUser(ctx context.Context, actor Actor, orgRef, accountID string, change func(SCIMUser) (SCIMUserInput, error)) (u SCIMUser, err error) {
	return s.patchSCIMUser(ctx, actor, orgRef, accountID, change, false)
}

// patchSCIMUser is PatchSCIMUser; replace (PUT) also refuses a User without the
// profile fields the organization requires of an account it may edit (see
// scimRequiredUpdate).
func (s *Service) patchSCIMUser(ctx context.Context, actor Actor, orgRef, accountID string, change func(SCIMUser) (SCIMUserInput, error), replace bool) (u SCIMUser, err error) {
	defer wrap(&err, "PatchSCIMUser(%s, %s)", orgRef, accountID)
	err = s.writeIn(ctx, actor, orgRef, PermMembersManage, func(tx Tx, a access) error {
		if err := tx.LockOrganization(ctx, a.org.ID); err != nil {
			return err
		}
		old, err := tx.SCIMUser(ctx, a.org.ID, accountID)
		if err != nil {
			return notFound(err, "member")
		}
		cur := old.Member
		if err := s.canManage(ctx, tx, actor, a, cur); err != nil {
			return err
		}
		in, err := change(old)
		if err != nil {
			return err
		}
		if err := in.validate(); err != nil {
			return err
		}
		// The names the identity provider gives are kept with the membership; they
		// become the account's only where the organization may edit its profile.
		var upd UpdateMemberInput
		if MayEditProfile(actor, a.org, cur.Account) {
			if in.GivenName != "" && in.GivenName != cur.Account.FirstName {
				upd.FirstName = &in.GivenName
			}
			if in.FamilyName != "" && in.FamilyName != cur.Account.LastName {
				upd.LastName = &in.FamilyName
			}
			if err := scimRequiredUpdate(a.org, cur.Account, in, &upd, replace); err != nil {
				return err
			}
		}
		if in.Role != "" && in.Role != cur.RoleID {
			upd.Role = &in.Role
		}
		m, err := s.updateMember(ctx, tx, actor, a, cur, upd)
		if err != nil {
			return err
		}
		if err := s.scimActivate(ctx, tx, actor, a, m, in.Active); err != nil {
			return err
		}
		in.OrgID, in.AccountID, in.UpdatedAt = a.org.ID, accountID, old.Data.UpdatedAt
		// What the identity provider sent again unchanged (Entra ID replaces every
		// attribute each cycle; Okta adds values that are there) changes nothing, not
		// even lastModified.
		if old.Data.AccountID == "" || !sameSCIMData(old.Data, in.SCIMUserData) {
			in.UpdatedAt = s.now()
			if err := s.putSCIMData(ctx, tx, actor, old.Data, in.SCIMUserData); err != nil {
				return err
			}
		}
		u, err = tx.SCIMUser(ctx, a.org.ID, accountID)
		u.Member = redact(actor, a.org, u.Member)
		return err
	})
	return u, err
}

// scimActivate applies SCIM's active to m: an active or deactivated member is
// deactivated or reactivated; for an invited member, active: false withdraws its
// pending invitation (the person can no longer join) and active: true sends one if
// none is pending.
func (s *Service) scimActivate(ctx context.Context, tx Tx, actor Actor, a access, m Member, active bool) error {
	if m.State != MemberInvited {
		to := MemberActive
		if !active {
			to = MemberDeactivated
		}
		_, err := s.changeState(ctx, tx, actor, a, m, to)
		return err
	}
	switch {
	case !active && m.Invitation != nil:
		if err := tx.LockOrganization(ctx, a.org.ID); err != nil {
			return err
		}
		return s.cancelInvitation(ctx, tx, actor, *m.Invitation)
	case active && m.Invitation == nil:
		return s.reinvite(ctx, tx, actor, a, m)
	}
	return nil
}

// FindSCIMUser returns one member as SCIM shows it. Needs members.read.
func (s *Service) FindSCIMUser(ctx context.Context, actor Actor, orgRef, accountID string) (u SCIMUser, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		u, err = tx.SCIMUser(ctx, a.org.ID, accountID)
		u.Member = redact(actor, a.org, u.Member)
		return notFound(err, "user")
	})
	return u, err
}

// FindSCIMUsers returns a page of the members matching q.Filter (compiled by the store
// into one query) and how many match. Needs members.read. Errors: EINVALID (field
// "filter") for a filter the store cannot compile.
func (s *Service) FindSCIMUsers(ctx context.Context, actor Actor, orgRef string, q SCIMQuery) (us []SCIMUser, total int, err error) {
	defer wrap(&err, "FindSCIMUsers(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		q.OrgID = a.org.ID
		us, total, err = tx.FindSCIMUsers(ctx, q)
		for i := range us {
			us[i].Member = redact(actor, a.org, us[i].Member)
		}
		return err
	})
	return us, total, err
}
