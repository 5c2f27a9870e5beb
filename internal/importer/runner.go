package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"roster.dev/roster/internal/account"
)

// Runner defaults.
const (
	DefaultBatch     = 500
	DefaultLease     = time.Minute
	DefaultPollEvery = 2 * time.Second
)

// Runner applies queued imports, one at a time, batch after batch. Every roster
// serve runs one; they share the queue through leases, so a job a crashed process
// held is resumed by whichever runner claims it once its lease lapses.
type Runner struct {
	Service   *account.Service
	Log       *slog.Logger
	Batch     int           // rows per transaction
	Lease     time.Duration // how long a claim lasts without a committed batch
	PollEvery time.Duration // the wait when no import is due

	owner    string
	wakeOnce sync.Once
	wake     chan struct{}
}

// Wake makes a waiting Run look for imports now (after an upload). It never blocks.
func (r *Runner) Wake() {
	select {
	case r.wakeChan() <- struct{}{}:
	default:
	}
}

func (r *Runner) wakeChan() chan struct{} {
	r.wakeOnce.Do(func() { r.wake = make(chan struct{}, 1) })
	return r.wake
}

// Run applies imports until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	for {
		did, err := r.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.log().ErrorContext(ctx, "import runner", "err", err)
		}
		if did && err == nil {
			continue
		}
		t := time.NewTimer(orDefault(r.PollEvery, DefaultPollEvery))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-r.wakeChan():
			t.Stop()
		}
	}
}

// RunOnce claims one due import and works on it until it is done, fails, or another
// runner takes it over; it reports whether there was one.
func (r *Runner) RunOnce(ctx context.Context) (bool, error) {
	imp, ok, err := r.Service.ImportJobs().Claim(ctx, r.ownerID(), orDefault(r.Lease, DefaultLease))
	if err != nil || !ok {
		return false, err
	}
	return true, r.process(ctx, imp)
}

func (r *Runner) process(ctx context.Context, imp account.Import) error {
	log := r.log().With("import", imp.ID, "org", imp.OrgID)
	if imp.Processed > 0 {
		log.InfoContext(ctx, "resuming import", "processed", imp.Processed, "total", imp.Total)
	}
	content, err := r.Service.ImportJobs().File(ctx, imp.ID)
	if err != nil {
		return err
	}
	rd, cells, err := openStored(content)
	if err != nil {
		return r.Service.ImportJobs().Fail(ctx, imp, "the stored file cannot be read: "+err.Error())
	}
	header, err := account.ParseImportHeader(cells)
	if err != nil {
		return r.Service.ImportJobs().Fail(ctx, imp, "the stored file cannot be read: "+err.Error())
	}
	seen := map[string]int{} // email → the row it first appeared in
	batchSize := orDefault(r.Batch, DefaultBatch)
	batch := make([]account.ImportRow, 0, batchSize)
	skip := imp.Processed
	for {
		row, err := rd.next()
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return r.Service.ImportJobs().Fail(ctx, imp, fmt.Sprintf("the file became unreadable after %d rows: %v", imp.Processed, err))
		}
		if !eof {
			ir := header.Row(row.Number, row.Cells, problems(row))
			if key := account.EmailKey(ir.Email()); key != "" {
				if first, dup := seen[key]; dup {
					ir.Reject(account.ColEmail, fmt.Sprintf("appears already in row %d of this file", first))
				} else {
					seen[key] = row.Number
				}
			}
			if skip > 0 { // applied before a restart: only its email is remembered
				skip--
				continue
			}
			batch = append(batch, ir)
		}
		if len(batch) == batchSize || eof && (len(batch) > 0 || imp.Processed < imp.Total) {
			out, err := r.Service.ImportJobs().ApplyRows(ctx, imp, batch, orDefault(r.Lease, DefaultLease))
			if errors.Is(err, account.ErrLeaseLost) {
				log.WarnContext(ctx, "import taken over by another runner")
				return nil
			}
			if err != nil && ctx.Err() != nil { // stopping: the batch rolled back; hand the job on
				if err := r.Service.ImportJobs().Release(context.WithoutCancel(ctx), imp); err != nil {
					log.WarnContext(ctx, "releasing the import", "err", err)
				}
				return nil
			}
			if err != nil {
				return err
			}
			imp, batch = out, batch[:0]
		}
		if eof && imp.State == account.ImportRunning { // the file holds fewer rows than counted at upload
			return r.Service.ImportJobs().Fail(ctx, imp, fmt.Sprintf("the file ended after %d of %d rows", imp.Processed, imp.Total))
		}
		if eof || imp.State != account.ImportRunning && imp.State != account.ImportQueued {
			if imp.State == account.ImportDone {
				log.InfoContext(ctx, "import done", "total", imp.Total, "created", imp.Created,
					"invited", imp.Invited, "updated", imp.Updated, "failed", imp.Failed)
			}
			return nil
		}
	}
}

func (r *Runner) ownerID() string {
	if r.owner == "" {
		host, _ := os.Hostname()
		var b [6]byte
		_, _ = rand.Read(b[:])
		r.owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	return r.owner
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// unquoteFormulas undoes the quote that CSV exports (ours, and the OWASP advice
// others follow) put before a cell starting with = + - @, so that an exported
// "+44 20 7946 0018" imports as the phone it was.
func unquoteFormulas(cells []string) {
	for i, c := range cells {
		if len(c) > 1 && c[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(c[1])) {
			cells[i] = c[1:]
		}
	}
}
