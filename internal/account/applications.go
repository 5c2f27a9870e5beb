package account

import (
	"context"
	"strings"
)

// applicationKeyPrefix starts every application API key, so that a bearer token
// says which kind of credential it is.
const applicationKeyPrefix = "rk_"

// IsApplicationKey reports whether a bearer token has the form of an application key.
func IsApplicationKey(token string) bool { return strings.HasPrefix(token, applicationKeyPrefix) }

// ApplicationInput creates or renames an application.
type ApplicationInput struct {
	Key  string
	Name string
}

// CreateApplication defines an application. Operators only. Errors: EFORBIDDEN,
// EINVALID, ECONFLICT (key taken).
func (s *Service) CreateApplication(ctx context.Context, actor Actor, in ApplicationInput) (app Application, err error) {
	defer wrap(&err, "CreateApplication")
	if err := requireOperator(actor, "defines applications"); err != nil {
		return app, err
	}
	key, errK := NormalizeSlug("key", strings.TrimSpace(in.Key))
	name, errN := NormalizeName("name", in.Name, true)
	if err := collect(errK, errN); err != nil {
		return app, err
	}
	now := s.now()
	app = Application{ID: s.ids.New(), Key: key, Name: name, CreatedAt: now, UpdatedAt: now}
	err = s.store.Write(ctx, func(tx Tx) error {
		if err := tx.CreateApplication(ctx, app); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditApplicationCreated, "application", app.ID, nil, map[string]any{"key": key, "name": name})
	})
	return app, err
}

// FindApplications lists every application; any authenticated account may read the
// catalogue (an admin picks applications when adding people).
func (s *Service) FindApplications(ctx context.Context, actor Actor) (apps []Application, err error) {
	err = s.store.Read(ctx, func(tx Tx) error {
		apps, err = tx.Applications(ctx)
		return err
	})
	return apps, err
}

// FindApplication returns one application by id or key.
func (s *Service) FindApplication(ctx context.Context, actor Actor, ref string) (app Application, err error) {
	err = s.store.Read(ctx, func(tx Tx) error {
		app, err = tx.Application(ctx, ref)
		return notFound(err, "application")
	})
	return app, err
}

// RenameApplication changes an application's name (its key is permanent: clients
// and import files refer to it). Operators only.
func (s *Service) RenameApplication(ctx context.Context, actor Actor, ref, name string) (app Application, err error) {
	defer wrap(&err, "RenameApplication(%s)", ref)
	if err := requireOperator(actor, "renames applications"); err != nil {
		return app, err
	}
	if name, err = NormalizeName("name", name, true); err != nil {
		return app, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		app, err = tx.Application(ctx, ref)
		if err != nil {
			return notFound(err, "application")
		}
		if app.Name == name {
			return nil
		}
		before := app.Name
		app.Name, app.UpdatedAt = name, s.now()
		if err := tx.UpdateApplication(ctx, app); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditApplicationUpdated, "application", app.ID,
			map[string]any{"name": before}, map[string]any{"name": name})
	})
	return app, err
}

// CreateApplicationKey issues an API key for the application; the key is returned
// once and only its hash kept. Operators only.
func (s *Service) CreateApplicationKey(ctx context.Context, actor Actor, ref, name string) (k ApplicationKey, key string, err error) {
	defer wrap(&err, "CreateApplicationKey(%s)", ref)
	if err := requireOperator(actor, "issues application keys"); err != nil {
		return k, "", err
	}
	if name, err = NormalizeName("name", name, false); err != nil {
		return k, "", err
	}
	key, hash := s.newToken(applicationKeyPrefix)
	err = s.store.Write(ctx, func(tx Tx) error {
		app, err := tx.Application(ctx, ref)
		if err != nil {
			return notFound(err, "application")
		}
		k = ApplicationKey{ID: s.ids.New(), ApplicationID: app.ID, Name: name, Hash: hash,
			Prefix: key[:len(applicationKeyPrefix)+6], CreatedAt: s.now()}
		if err := tx.CreateApplicationKey(ctx, k); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditApplicationKeyCreated, "application_key", k.ID, nil,
			map[string]any{"application": app.Key, "name": name, "prefix": k.Prefix})
	})
	return k, key, err
}

// FindApplicationKeys lists an application's keys, revoked ones included. Operators only.
func (s *Service) FindApplicationKeys(ctx context.Context, actor Actor, ref string) (keys []ApplicationKey, err error) {
	if err := requireOperator(actor, "reads application keys"); err != nil {
		return nil, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		app, err := tx.Application(ctx, ref)
		if err != nil {
			return notFound(err, "application")
		}
		keys, err = tx.ApplicationKeys(ctx, app.ID)
		return err
	})
	return keys, err
}

// RevokeApplicationKey makes a key stop working at once. Operators only. Errors:
// ENOTFOUND (no such key, or revoked already).
func (s *Service) RevokeApplicationKey(ctx context.Context, actor Actor, ref, id string) (err error) {
	defer wrap(&err, "RevokeApplicationKey(%s, %s)", ref, id)
	if err := requireOperator(actor, "revokes application keys"); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		app, err := tx.Application(ctx, ref)
		if err != nil {
			return notFound(err, "application")
		}
		if err := tx.RevokeApplicationKey(ctx, app.ID, id, s.now()); err != nil {
			return notFound(err, "application key")
		}
		return s.audit(ctx, tx, actor, "", AuditApplicationKeyRevoked, "application_key", id, nil, nil)
	})
}

func requireOperator(actor Actor, what string) error {
	if !actor.Account.Operator {
		return Errorf(EFORBIDDEN, "only an operator %s", what)
	}
	return nil
}
