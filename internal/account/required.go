package account

import (
	"cmp"
	"context"
)

// The required profile fields (required_profile_fields, an organization setting):
// the one rule every channel applies when an organization supplies a person's
// profile. A person the organization creates as an active account — POST …/members
// with send_invite: false, the console's Add user, an import row with send_invite
// no, SCIM — must be given each field the organization requires; an update (of a
// member, of one's own profile, by SCIM) must not clear one. An invitation is
// exempt: the invitee's profile is their own, and an email alone is invitation
// enough (see AddMember and Invite).

// requiredValue is the value of a required profile field in acct.
func requiredValue(acct Account, field string) string {
	if field == ProfilePhone {
		return acct.Phone
	}
	return acct.Username
}

// requiredMessage is what a person reads when a required field is missing.
func requiredMessage(org Organization) string {
	return "is required by " + org.Name
}

// checkRequired refuses (EINVALID) an account the organization creates without
// a field it requires, naming each missing field as name maps it (nil: the API's
// field names phone and username).
func checkRequired(org Organization, acct Account, name func(string) string) error {
	var v Validation
	for _, f := range org.RequiredFields() {
		if requiredValue(acct, f) == "" {
			if name != nil {
				v.Add(name(f), requiredMessage(org))
			} else {
				v.Add(f, requiredMessage(org))
			}
		}
	}
	return v.Err()
}

// checkKept refuses (EINVALID) a change from before to after that clears a field
// one of orgs requires, naming the field.
func checkKept(orgs []Organization, before, after Account) error {
	var v Validation
	for _, f := range []string{ProfilePhone, ProfileUsername} {
		if requiredValue(after, f) != "" || requiredValue(before, f) == "" {
			continue
		}
		for _, org := range orgs {
			if org.requires(f) {
				v.Add(f, "cannot be cleared: "+requiredMessage(org))
				break
			}
		}
	}
	return v.Err()
}

// requires reports whether the organization requires the profile field f.
func (o Organization) requires(f string) bool {
	return (f == ProfilePhone && o.RequirePhone) || (f == ProfileUsername && o.RequireUsername)
}

// accountOrganizations returns the organizations the account belongs to (as a member
// in any state): those whose required fields a change of its profile must keep.
func accountOrganizations(ctx context.Context, tx Tx, accountID string) ([]Organization, error) {
	ms, err := tx.MembershipsOfAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	orgs := make([]Organization, 0, len(ms))
	for _, m := range ms {
		orgs = append(orgs, m.Organization)
	}
	return orgs, nil
}

// parseRequiredFields validates required_profile_fields: a subset of phone and
// username, each once.
func parseRequiredFields(fields []string) (phone, username bool, err error) {
	var v Validation
	for _, f := range fields {
		switch {
		case f != ProfilePhone && f != ProfileUsername:
			v.Add("required_profile_fields", "holds "+quote(f)+": only phone and username may be required")
		case (f == ProfilePhone && phone) || (f == ProfileUsername && username):
			v.Add("required_profile_fields", "names "+f+" twice")
		case f == ProfilePhone:
			phone = true
		default:
			username = true
		}
	}
	return phone, username, v.Err()
}

// scimField names a required field as the SCIM use cases do (the domain fields the
// SCIM endpoint maps to its attributes: phoneNumbers, userName).
func scimField(f string) string {
	if f == ProfilePhone {
		return string(FieldPhones)
	}
	return string(FieldUserName)
}

// scimRequiredProfile is what a SCIM User gives the new account of an organization
// that requires phone or username: the primary (or first) phone number that is one,
// and userName as the username. A field the organization does not require is left
// empty, as SCIM always left it. Errors: EINVALID naming userName when it is not a
// username.
func scimRequiredProfile(org Organization, in SCIMUserInput) (phone, username string, err error) {
	if org.RequirePhone {
		for _, primary := range []bool{true, false} {
			for _, p := range in.Phones {
				if phone == "" && p.Primary == primary {
					phone, _ = NormalizePhone(scimField(ProfilePhone), p.Value)
				}
			}
		}
	}
	if org.RequireUsername {
		username, err = NormalizeUsername(scimField(ProfileUsername), in.UserName)
	}
	return phone, username, err
}

// scimRequiredUpdate gives an account the organization may edit, from a SCIM User
// replacing or patching its member, each required field it lacks (as
// scimRequiredProfile finds them). A replacement (PUT) that still leaves one
// missing is refused (EINVALID naming FieldPhones or FieldUserName, which the SCIM endpoint calls phoneNumbers and userName); a PATCH is not, so
// that an identity provider can still deactivate such a member.
func scimRequiredUpdate(org Organization, cur Account, in SCIMUserInput, upd *UpdateMemberInput, replace bool) error {
	phone, username, err := scimRequiredProfile(org, in)
	if err != nil { // userName is no username
		if replace && cur.Username == "" {
			return err
		}
		username = ""
	}
	if org.RequirePhone && cur.Phone == "" && phone != "" {
		upd.Phone = &phone
	}
	if org.RequireUsername && cur.Username == "" && username != "" {
		upd.Username = &username
	}
	if !replace {
		return nil
	}
	after := cur
	after.Phone, after.Username = cmp.Or(cur.Phone, phone), cmp.Or(cur.Username, username)
	return checkRequired(org, after, scimField)
}
