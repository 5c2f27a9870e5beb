package account

import "context"

// ProfileInput is PATCH /me: the person's own profile; nil fields are left alone.
type ProfileInput struct {
	FirstName *string
	LastName  *string
	Phone     *string
	Username  *string
}

// UpdateProfile changes the actor's own names, phone and username: the person's to
// edit, whichever organizations they belong to. A change is audited once, on the
// platform's trail. Errors: EINVALID, ECONFLICT (username taken), EFORBIDDEN (an
// organization's SCIM token, which is no person).
func (s *Service) UpdateProfile(ctx context.Context, actor Actor, in ProfileInput) (a Account, err error) {
	defer wrap(&err, "UpdateProfile(%s)", actor.Account.ID)
	if actor.SCIMOrgID != "" {
		return a, Errorf(EFORBIDDEN, "a SCIM token has no profile of its own")
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		cur, err := tx.AccountByID(ctx, actor.Account.ID)
		if err != nil {
			return err
		}
		if a, err = applyProfile(cur, in); err != nil {
			return err
		}
		if a == cur {
			return nil
		}
		orgs, err := accountOrganizations(ctx, tx, cur.ID)
		if err != nil {
			return err
		}
		if err := checkKept(orgs, cur, a); err != nil {
			return err
		}
		a.UpdatedAt = s.now()
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		before, after := diff(accountState(cur), accountState(a))
		return s.audit(ctx, tx, actor, "", AuditAccountUpdated, "account", a.ID, before, after)
	})
	return a, err
}

// applyProfile returns a with the profile fields of in, normalized. Errors: EINVALID
// naming each bad field.
func applyProfile(a Account, in ProfileInput) (Account, error) {
	var v Validation
	if in.FirstName != nil {
		n, err := NormalizeName("first_name", *in.FirstName, true)
		addErr(&v, err)
		a.FirstName = n
	}
	if in.LastName != nil {
		n, err := NormalizeName("last_name", *in.LastName, true)
		addErr(&v, err)
		a.LastName = n
	}
	if in.Phone != nil {
		p, err := NormalizePhone("phone", *in.Phone)
		addErr(&v, err)
		a.Phone = p
	}
	if in.Username != nil {
		u, err := NormalizeUsername("username", *in.Username)
		addErr(&v, err)
		a.Username = u
	}
	return a, v.Err()
}
