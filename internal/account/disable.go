package account

import "context"

// DisableAccount disables an account: it can no longer log in, its sessions and
// device tokens end at once, and every entitlement check of it answers
// account-disabled. Its memberships, teams and seats stay as they are, for
// EnableAccount to give back. Operators only (decided before anything else); an
// operator cannot disable their own account, nor the last active operator's. The
// platform trail records it, and so does the trail of each organization of the
// account (whose applications learn of it as account.disabled); the person gets an
// email.
func (s *Service) DisableAccount(ctx context.Context, actor Actor, accountID string) (acct Account, err error) {
	defer wrap(&err, "DisableAccount(%s)", accountID)
	if err := requireOperator(actor, "disables accounts"); err != nil {
		return acct, err
	}
	if accountID == actor.Account.ID {
		return acct, Errorf(ECONFLICT, "you cannot disable your own account")
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		cur, err := tx.AccountByID(ctx, accountID)
		if err != nil {
			return notFound(err, "account")
		}
		if cur.State == AccountDisabled {
			acct = cur
			return nil // already disabled: nothing changes, nothing is audited
		}
		if cur.Operator && cur.State == AccountActive {
			ops, err := tx.ActiveOperators(ctx)
			if err != nil {
				return err
			}
			if len(ops) <= 1 {
				return Errorf(ECONFLICT, "the last active operator's account cannot be disabled")
			}
		}
		acct, err = s.setAccountState(ctx, tx, actor, cur, AccountDisabled, AuditAccountDisabled)
		if err != nil {
			return err
		}
		if err := s.revokeCredentials(ctx, tx, accountID, "", LogoutAccountDisabled); err != nil {
			return err
		}
		return s.notify(ctx, tx, "", s.accountNotice(NoticeAccountDisabled, acct))
	})
	return acct, err
}

// EnableAccount gives a disabled account back its access: it can log in again, and
// its memberships, teams and seats count as they did; an account that never had a
// password (invited, not yet activated) is pending again. Operators only; audited like
// DisableAccount (account.enabled), and the person gets an email. Enabling an
// account that is not disabled changes nothing.
func (s *Service) EnableAccount(ctx context.Context, actor Actor, accountID string) (acct Account, err error) {
	defer wrap(&err, "EnableAccount(%s)", accountID)
	if err := requireOperator(actor, "enables accounts"); err != nil {
		return acct, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		cur, err := tx.AccountByID(ctx, accountID)
		if err != nil {
			return notFound(err, "account")
		}
		if cur.State != AccountDisabled {
			acct = cur
			return nil
		}
		// Back to what it was: an account without a password (invited, never
		// activated) is pending again, not active.
		to := AccountActive
		if cur.PasswordHash == "" {
			to = AccountPending
		}
		if acct, err = s.setAccountState(ctx, tx, actor, cur, to, AuditAccountEnabled); err != nil {
			return err
		}
		return s.notify(ctx, tx, "", s.accountNotice(NoticeAccountEnabled, acct))
	})
	return acct, err
}

// setAccountState writes the account's new state and audits it as action: in the
// platform trail, and in the trail of each organization of the account, so that
// each sees it (and emits its event to its applications).
func (s *Service) setAccountState(ctx context.Context, tx Tx, actor Actor, cur Account, state AccountState, action AuditAction) (Account, error) {
	next := cur
	next.State, next.UpdatedAt = state, s.now()
	if err := tx.UpdateAccount(ctx, next); err != nil {
		return next, err
	}
	before, after := map[string]any{"state": cur.State}, map[string]any{"state": state}
	ms, err := tx.MembershipsOfAccount(ctx, cur.ID)
	if err != nil {
		return next, err
	}
	for _, am := range ms {
		if err := s.audit(ctx, tx, actor, am.OrgID, action, "account", cur.ID, before, after); err != nil {
			return next, err
		}
	}
	return next, s.audit(ctx, tx, actor, "", action, "account", cur.ID, before, after)
}

// accountNotice is a notice to the person of an account about the account itself
// (no organization's).
func (s *Service) accountNotice(kind string, a Account) Notice {
	name := a.FirstName
	if name == "" {
		name = a.Email
	}
	return Notice{Kind: kind, To: a.Email, Name: name, Link: s.baseURL + "/"}
}
