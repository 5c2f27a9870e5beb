package account

import (
	"context"
	"strings"
	"time"
)

// ImportUpload is a checked upload: its format, and its data rows counted.
type ImportUpload struct {
	FileName string
	Format   string // "xlsx" or "csv"
	Content  []byte
	Total    int // data rows
}

// StartImport queues an import of an organization's people from a file whose header
// and rows were read to the end already (internal/importer checks uploads). Needs
// imports.run. Errors: ENOTFOUND, EFORBIDDEN, EINVALID.
func (s *Service) StartImport(ctx context.Context, actor Actor, orgRef string, up ImportUpload) (imp Import, err error) {
	defer wrap(&err, "StartImport(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermImportsRun); err != nil {
		return imp, err
	}
	if up.Format != "xlsx" && up.Format != "csv" {
		return imp, Invalid("file", "must be an .xlsx workbook or a CSV file")
	}
	// The file's name is a label the browser chose: bytes that are not text become
	// U+FFFD rather than refusing the upload, and it is cut on a character boundary.
	name := strings.TrimSpace(strings.ToValidUTF8(strings.ReplaceAll(up.FileName, "\x00", "\uFFFD"), "\uFFFD"))
	if len(name) > 200 {
		name = strings.ToValidUTF8(name[:200], "")
	}
	err = s.writeIn(ctx, actor, orgRef, PermImportsRun, func(tx Tx, a access) error {
		now := s.now()
		imp = Import{ID: s.ids.New(), OrgID: a.org.ID, ActorID: actor.Account.ID, FileName: name, Format: up.Format,
			Size: int64(len(up.Content)), State: ImportQueued, Total: up.Total, CreatedAt: now, UpdatedAt: now}
		if up.Total == 0 {
			imp.State, imp.FinishedAt = ImportDone, now
		}
		if err := tx.CreateImport(ctx, imp, up.Content); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditImportStarted, "import", imp.ID, nil,
			map[string]any{"file_name": name, "format": up.Format, "size": imp.Size, "rows": up.Total})
	})
	return imp, err
}

// ActorForEmail is the actor of a local administration command run with direct
// access to the store (roster import): the active account with that email, or with
// an empty email the first operator. Errors: ENOTFOUND, EFORBIDDEN (not active).
func (s *Service) ActorForEmail(ctx context.Context, email string) (Actor, error) {
	var a Account
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if strings.TrimSpace(email) == "" {
			a, err = tx.FirstOperator(ctx)
		} else {
			a, err = tx.AccountByEmail(ctx, EmailKey(email))
		}
		return notFound(err, "account")
	})
	if err != nil {
		return Actor{}, err
	}
	if a.State != AccountActive {
		return Actor{}, Errorf(EFORBIDDEN, "the account %s is %s", a.Email, a.State)
	}
	return Actor{Account: a, IP: "local"}, nil
}

// CheckImport reports whether the actor may import into the organization, before
// an upload is read. Errors: ENOTFOUND, EFORBIDDEN.
func (s *Service) CheckImport(ctx context.Context, actor Actor, orgRef string) error {
	return s.store.Read(ctx, func(tx Tx) error {
		_, err := s.authorize(ctx, tx, actor, orgRef, PermImportsRun)
		return err
	})
}

// FindImport returns an import with its first rejected rows (at most limit). Needs
// imports.run.
func (s *Service) FindImport(ctx context.Context, actor Actor, orgRef, id string, limit int) (imp Import, errs []ImportError, err error) {
	err = s.readIn(ctx, actor, orgRef, PermImportsRun, func(tx Tx, a access) error {
		if imp, err = tx.Import(ctx, a.org.ID, id); err != nil {
			return notFound(err, "import")
		}
		errs, err = tx.ImportErrors(ctx, imp.ID, 0, limit)
		return err
	})
	return imp, errs, err
}

// ImportErrorPage is a page of an import's rejected rows: every error of each row
// on it, and NextRow, the last row shown when more follow (0 on the last page).
type ImportErrorPage struct {
	Errors  []ImportError
	NextRow int
}

// FindImportErrors pages an import's rejected rows after row afterRow, at most
// limit errors a page; a row's errors are never split over two pages. Needs
// imports.run.
func (s *Service) FindImportErrors(ctx context.Context, actor Actor, orgRef, id string, afterRow, limit int) (p ImportErrorPage, err error) {
	defer wrap(&err, "FindImportErrors(%s)", orgRef)
	if afterRow < 0 {
		return p, Invalid("after", "must be a row number")
	}
	limit = min(max(limit, 1), 1000)
	err = s.readIn(ctx, actor, orgRef, PermImportsRun, func(tx Tx, a access) error {
		imp, err := tx.Import(ctx, a.org.ID, id)
		if err != nil {
			return notFound(err, "import")
		}
		errs, err := tx.ImportErrors(ctx, imp.ID, afterRow, limit+1)
		if err != nil || len(errs) <= limit {
			p.Errors = errs
			return err
		}
		next := errs[limit].Row
		errs = errs[:limit]
		for len(errs) > 1 && errs[len(errs)-1].Row == next { // the next page starts with that row, whole
			errs = errs[:len(errs)-1]
		}
		p.Errors, p.NextRow = errs, errs[len(errs)-1].Row
		return nil
	})
	return p, err
}

// ImportQuery pages FindImports.
type ImportQuery struct {
	Cursor string
	Limit  int
}

// FindImports lists an organization's imports, newest first. Needs imports.run.
func (s *Service) FindImports(ctx context.Context, actor Actor, orgRef string, q ImportQuery) (p Page[Import], err error) {
	defer wrap(&err, "FindImports(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermImportsRun, func(tx Tx, a access) error {
		limit, cur, err := listParams(q.Limit, q.Cursor, "", "")
		if err != nil {
			return err
		}
		items, err := tx.FindImports(ctx, a.org.ID, cur.after, limit+1)
		if err != nil {
			return err
		}
		total := cur.total
		if total < 0 {
			if total, err = tx.CountImports(ctx, a.org.ID); err != nil {
				return err
			}
		}
		p = pageOf(items, total, limit, func(i Import) string { return i.ID })
		return nil
	})
	return p, err
}

// EachImportError calls fn with every rejected row of an import, in row order (the
// error report). Needs imports.run.
func (s *Service) EachImportError(ctx context.Context, actor Actor, orgRef, id string, fn func(Import, ImportError) error) (err error) {
	var imp Import
	if err := s.readIn(ctx, actor, orgRef, PermImportsRun, func(tx Tx, a access) error {
		imp, err = tx.Import(ctx, a.org.ID, id)
		return notFound(err, "import")
	}); err != nil {
		return err
	}
	const pageSize = 1000
	after := 0
	for {
		var page []ImportError
		if err := s.store.Read(ctx, func(tx Tx) error {
			var err error
			page, err = tx.ImportErrors(ctx, imp.ID, after, pageSize)
			return err
		}); err != nil {
			return err
		}
		full := len(page) == pageSize
		if full { // the page may end inside a row's errors: that row comes whole next time
			last := page[len(page)-1].Row
			for len(page) > 0 && page[len(page)-1].Row == last {
				page = page[:len(page)-1]
			}
			if len(page) == 0 {
				return Errorf(EINTERNAL, "row %d has more than %d errors", last, pageSize)
			}
		}
		for _, e := range page {
			if err := fn(imp, e); err != nil {
				return err
			}
		}
		if !full {
			return nil
		}
		after = page[len(page)-1].Row
	}
}

// FindImportOffer returns the choices of an organization's import template: the
// offer (see FindOffer) of the organization alone, to whoever may import. Needs
// imports.run.
func (s *Service) FindImportOffer(ctx context.Context, actor Actor, orgRef string) (o Offer, err error) {
	err = s.readIn(ctx, actor, orgRef, PermImportsRun, func(tx Tx, a access) error {
		o, err = s.offer(ctx, tx, a)
		return err
	})
	return o, err
}

// ImportJobs is the import runner's side of imports: claiming the next job, reading
// its file, applying its rows with the uploader's permissions as they are now,
// failing or releasing it. None of it takes an actor, so it is not on Service, whose
// every use case acts for someone: only the runner holds one.
type ImportJobs struct{ s *Service }

// ImportJobs returns the runner's side of imports.
func (s *Service) ImportJobs() ImportJobs { return ImportJobs{s: s} }

// UploadedFile returns the file uploaded for an import of orgRef. Needs imports.run.
func (s *Service) UploadedFile(ctx context.Context, actor Actor, orgRef, id string) (b []byte, err error) {
	err = s.readIn(ctx, actor, orgRef, PermImportsRun, func(tx Tx, a access) error {
		imp, err := tx.Import(ctx, a.org.ID, id)
		if err != nil {
			return notFound(err, "import")
		}
		b, err = tx.ImportFile(ctx, imp.ID)
		return err
	})
	return b, err
}

// Claim gives the runner owner the next import to work on, leased until now +
// lease; ok is false when there is none.
func (j ImportJobs) Claim(ctx context.Context, owner string, lease time.Duration) (imp Import, ok bool, err error) {
	s := j.s
	err = s.store.Write(ctx, func(tx Tx) error {
		now := s.now()
		var err error
		imp, err = tx.ClaimImport(ctx, owner, now, now.Add(lease))
		return err
	})
	if ErrorCode(err) == ENOTFOUND {
		return imp, false, nil
	}
	return imp, err == nil, err
}

// File returns an import's uploaded file.
func (j ImportJobs) File(ctx context.Context, id string) (b []byte, err error) {
	s := j.s
	err = s.store.Read(ctx, func(tx Tx) error {
		b, err = tx.ImportFile(ctx, id)
		return err
	})
	return b, err
}

// Fail stops a claimed import for good with reason (its file could not be
// read to the end); the rows applied so far stay applied.
func (j ImportJobs) Fail(ctx context.Context, imp Import, reason string) error {
	s := j.s
	return s.store.Write(ctx, func(tx Tx) error {
		now := s.now()
		imp.State, imp.Error, imp.UpdatedAt, imp.FinishedAt, imp.LeaseUntil = ImportFailed, truncate(reason, 500), now, now, now
		ok, err := tx.UpdateImport(ctx, imp)
		if err != nil || !ok {
			return err
		}
		return s.audit(ctx, tx, Actor{Account: Account{ID: imp.ActorID}}, imp.OrgID, AuditImportFailed, "import", imp.ID, nil,
			map[string]any{"error": imp.Error, "processed": imp.Processed})
	})
}

// Release gives up a claimed import without finishing it (the process is
// stopping), so that a runner may take it over at once rather than when the lease
// lapses. The rows applied so far stay applied.
func (j ImportJobs) Release(ctx context.Context, imp Import) error {
	s := j.s
	return s.store.Write(ctx, func(tx Tx) error {
		imp.LeaseUntil, imp.UpdatedAt = s.now(), s.now()
		_, err := tx.UpdateImport(ctx, imp)
		return err
	})
}

// ErrLeaseLost is returned by ImportJobs.ApplyRows when another runner took the import
// over (this runner stalled past its lease): nothing of the batch was applied.
var ErrLeaseLost = Errorf(ECONFLICT, "another runner took the import over")

// ApplyRows applies the next rows of a claimed import — the data rows right
// after imp.Processed, in file order — in one transaction with their audit events,
// emails, rejected rows and the new progress, and renews the lease. Each row is
// applied with the uploader's permissions as they are now, or rejected with its
// reasons; a rejected row leaves nothing behind. It returns the import as
// committed. Errors: ErrLeaseLost; a store error (nothing applied).
func (j ImportJobs) ApplyRows(ctx context.Context, imp Import, rows []ImportRow, lease time.Duration) (out Import, err error) {
	s := j.s
	defer wrap(&err, "ImportJobs.ApplyRows(%s)", imp.ID)
	err = s.store.Write(ctx, func(tx Tx) error {
		out = imp
		var rejected []ImportError
		reject := func(r ImportRow, errs []FieldError) {
			out.Failed++
			for _, fe := range errs {
				rejected = append(rejected, ImportError{ImportID: imp.ID, Row: r.Row, Field: fe.Field, Message: fe.Message, Values: r.Values})
			}
		}
		actor, a, authErr := s.importActor(ctx, tx, imp)
		if ErrorCode(authErr) == EINTERNAL {
			return authErr
		}
		c := &importBatch{}
		var parsed []parsedRow
		for _, r := range rows {
			if len(r.Problems) > 0 {
				reject(r, r.Problems)
				continue
			}
			if authErr != nil {
				reject(r, fieldErrors(authErr, "file"))
				continue
			}
			p, err := s.parseImportRow(ctx, tx, a, c, r)
			switch {
			case ErrorCode(err) == EINTERNAL:
				return err
			case err != nil:
				reject(r, fieldErrors(err, "row"))
			default:
				parsed = append(parsed, p)
			}
		}
		// People new to Roster without seats go in bulk; everyone else row by row.
		counts, slow, err := s.importNew(ctx, tx, actor, a, parsed)
		if err != nil {
			return err
		}
		out.Created += counts.created
		out.Invited += counts.invited
		for _, p := range slow {
			var kind importResult
			err := tx.Savepoint(ctx, func() error {
				var err error
				kind, err = s.applyRow(ctx, tx, actor, a, p)
				return err
			})
			switch {
			case ErrorCode(err) == EINTERNAL:
				return err
			case err != nil:
				reject(p.row, fieldErrors(err, "row"))
			case kind == importCreated:
				out.Created++
			case kind == importInvited:
				out.Invited++
			case kind == importUpdated:
				out.Updated++
			}
		}
		now := s.now()
		out.Processed += len(rows)
		out.State, out.UpdatedAt, out.LeaseUntil = ImportRunning, now, now.Add(lease)
		if out.Processed >= out.Total {
			out.State, out.FinishedAt, out.LeaseUntil = ImportDone, now, now
		}
		if len(rejected) > 0 {
			if err := tx.InsertImportErrors(ctx, rejected); err != nil {
				return err
			}
		}
		ok, err := tx.UpdateImport(ctx, out)
		if err != nil {
			return err
		}
		if !ok {
			return ErrLeaseLost
		}
		if out.State == ImportDone {
			return s.audit(ctx, tx, actor, imp.OrgID, AuditImportFinished, "import", imp.ID, nil, map[string]any{
				"total": out.Total, "created": out.Created, "invited": out.Invited, "updated": out.Updated, "failed": out.Failed})
		}
		return nil
	})
	return out, err
}

// importActor is the uploader acting now: their account must still be active and
// hold imports.run in the organization.
func (s *Service) importActor(ctx context.Context, tx Tx, imp Import) (Actor, access, error) {
	acct, err := tx.AccountByID(ctx, imp.ActorID)
	if ErrorCode(err) == ENOTFOUND || err == nil && acct.State != AccountActive {
		return Actor{Account: Account{ID: imp.ActorID}}, access{}, Errorf(EFORBIDDEN, "the account that uploaded the file can no longer import")
	}
	if err != nil {
		return Actor{}, access{}, err
	}
	actor := Actor{Account: acct, IP: "import " + imp.ID}
	a, err := s.authorize(ctx, tx, actor, imp.OrgID, PermImportsRun)
	return actor, a, err
}

// fieldErrors are the per-field reasons of a rejected row: a validation error's
// fields, or the error's message under field.
func fieldErrors(err error, field string) []FieldError {
	if e, ok := AsError(err); ok {
		if len(e.Fields) > 0 {
			return e.Fields
		}
		return []FieldError{{Field: field, Message: e.Message}}
	}
	return []FieldError{{Field: field, Message: err.Error()}}
}
