package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.EventTx = (*tx)(nil)

// InsertEvent writes e and one unnumbered feed row per target application (see the
// 00023 migrations). No counter is read or written here: writers of different
// organizations never wait for one another on an application's sequence.
func (t *tx) InsertEvent(ctx context.Context, e account.Event) error {
	if _, err := t.q.ExecContext(ctx, `
		INSERT INTO events (id, org_id, type, data_json, created_at) VALUES ($1, $2, $3, $4, $5)`,
		e.ID, e.OrgID, string(e.Type), string(e.Data), ts(e.CreatedAt)); err != nil {
		return translate(err, "event")
	}
	for _, app := range e.Applications {
		if _, err := t.q.ExecContext(ctx, `
			INSERT INTO event_feed (application_id, event_id) VALUES ($1, $2)`, app, e.ID); err != nil {
			return translate(err, "event")
		}
	}
	t.evented = true
	return nil
}

// SubscribedApplications lists the applications orgID holds a subscription of. The
// answer is read once per transaction and organization (see tx.subscribed); within
// one transaction on PostgreSQL it is therefore the one first read, not one that a
// subscription committed meanwhile by another transaction would change: every event
// of the transaction goes to the same applications.
func (t *tx) SubscribedApplications(ctx context.Context, orgID string) ([]string, error) {
	if apps, ok := t.subscribed[orgID]; ok {
		return slices.Clone(apps), nil
	}
	apps, err := t.subscribedApplications(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if t.subscribed == nil {
		t.subscribed = map[string][]string{}
	}
	t.subscribed[orgID] = apps
	return slices.Clone(apps), nil
}

func (t *tx) subscribedApplications(ctx context.Context, orgID string) ([]string, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT DISTINCT s.application_id FROM subscriptions s WHERE s.org_id = $1 ORDER BY s.application_id`, orgID)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

// FeedEvents reads one application's numbered feed: only rows the relay numbered,
// so never an event whose sequence could still be overtaken.
func (t *tx) FeedEvents(ctx context.Context, f account.EventFilter) ([]account.Event, error) {
	var a args
	conds := []string{`f.application_id = ` + a.add(f.ApplicationID), `f.sequence > ` + a.add(f.After)}
	if len(f.Types) > 0 {
		types := make([]string, len(f.Types))
		for i, typ := range f.Types {
			types[i] = string(typ)
		}
		conds = append(conds, `e.type IN (`+a.list(types)+`)`)
	}
	rows, err := t.q.QueryContext(ctx, `
		SELECT e.id, e.org_id, e.type, f.sequence, e.data_json, e.created_at
		FROM event_feed f JOIN events e ON e.id = f.event_id`+where(conds)+
		` ORDER BY f.sequence`+limit(&a, f.Limit), a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Event{}
	for rows.Next() {
		var e account.Event
		var typ, data string
		if err := rows.Scan(&e.ID, &e.OrgID, &typ, &e.Sequence, &data, scanTime{&e.CreatedAt}); err != nil {
			return nil, err
		}
		e.Type, e.Data = account.EventType(typ), []byte(data)
		e.Applications = []string{f.ApplicationID}
		out = append(out, e)
	}
	return out, rows.Err()
}

// OnEvent sets a function called after every committed write that wrote a change
// event (serve wakes the relay with it). It must not block.
func (db *DB) OnEvent(fn func()) { db.onEvent.Store(&fn) }

// relayLockKey is the PostgreSQL advisory lock that makes the relay one at a time
// per database, whatever the number of processes ("roster:events" in ASCII).
const relayLockKey = 0x726f737465723a65

// RelayEvents numbers up to batch pending feed rows, oldest event first, giving each
// the next sequence of its application, in one transaction, and reports how many it
// numbered. Relays run one at a time (an advisory transaction lock on PostgreSQL;
// SQLite's one writer), and each numbers only what is committed when it starts: so a
// sequence is given only after every lower sequence of its application is visible,
// and a reader of "after N" can never miss an event that committed late.
func (db *DB) RelayEvents(ctx context.Context, now time.Time, batch int) (n int, err error) {
	delivered := false
	if batch <= 0 {
		batch = 500
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, classify(ctx, fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if err != nil {
			sqlTx.Rollback()
			err = classify(ctx, err)
			n = 0
			return
		}
		if err = sqlTx.Commit(); err != nil {
			err, n = classify(ctx, fmt.Errorf("commit: %w", err)), 0
			return
		}
		if fn := db.onDelivery.Load(); delivered && fn != nil {
			(*fn)()
		}
	}()
	if db.engine == Postgres {
		if _, err := sqlTx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(relayLockKey)); err != nil {
			return 0, err
		}
	}
	type pending struct{ app, event, typ string }
	rows, err := sqlTx.QueryContext(ctx, `
		SELECT f.application_id, f.event_id, e.type FROM event_feed f JOIN events e ON e.id = f.event_id
		WHERE f.sequence IS NULL ORDER BY f.event_id, f.application_id LIMIT $1`, batch)
	if err != nil {
		return 0, err
	}
	var todo []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.app, &p.event, &p.typ); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	last := map[string]int64{}
	hooks := map[string][]account.Webhook{}
	for _, p := range todo {
		ws, ok := hooks[p.app]
		if !ok {
			if ws, err = enabledWebhooks(ctx, sqlTx, p.app); err != nil {
				return 0, err
			}
			hooks[p.app] = ws
		}
		// Its deliveries are written with its number: none is lost between the two.
		for _, w := range ws {
			if !w.Takes(account.EventType(p.typ)) {
				continue
			}
			if _, err := sqlTx.ExecContext(ctx, `
				INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, state, next_at, created_at, updated_at)
				VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5)`, db.ids().New(), w.ID, p.event, p.typ, ts(now)); err != nil {
				return 0, err
			}
			delivered = true
		}
		seq, ok := last[p.app]
		if !ok {
			err := sqlTx.QueryRowContext(ctx, `SELECT last_sequence FROM event_sequences WHERE application_id = $1`, p.app).Scan(&seq)
			if errors.Is(err, sql.ErrNoRows) {
				seq = 0
			} else if err != nil {
				return 0, err
			}
		}
		seq++
		last[p.app] = seq
		if _, err := sqlTx.ExecContext(ctx, `
			UPDATE event_feed SET sequence = $1, relayed_at = $2 WHERE application_id = $3 AND event_id = $4`,
			seq, ts(now), p.app, p.event); err != nil {
			return 0, err
		}
	}
	for app, seq := range last {
		if _, err := sqlTx.ExecContext(ctx, `
			INSERT INTO event_sequences (application_id, last_sequence) VALUES ($1, $2)
			ON CONFLICT (application_id) DO UPDATE SET last_sequence = excluded.last_sequence`, app, seq); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// PruneEvents deletes the events created before before, batch at a time (their feed
// rows go with them), and reports how many it deleted. The sequences go on from
// where they were: a pruned feed has a gap at its start, never a number given twice.
func (db *DB) PruneEvents(ctx context.Context, before time.Time, batch int) (int64, error) {
	if batch <= 0 {
		batch = 500
	}
	var total int64
	for {
		n, err := db.pruneEventsBatch(ctx, before, batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
}

func (db *DB) pruneEventsBatch(ctx context.Context, before time.Time, batch int) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.writer.ExecContext(ctx, `
		DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
		ts(before), batch)
	if err != nil {
		return 0, classify(ctx, err)
	}
	return res.RowsAffected()
}

// enabledWebhooks lists the enabled endpoints of an application (for the relay,
// which reads their events only: the secrets stay as stored).
func enabledWebhooks(ctx context.Context, q querier, app string) ([]account.Webhook, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+webhookColumns+`
		FROM webhook_endpoints w WHERE w.application_id = $1 AND w.enabled ORDER BY w.id`, app)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// OnDelivery sets a function called after a relay or a write that made webhook
// deliveries due commits (serve wakes the delivery worker with it). It must not block.
func (db *DB) OnDelivery(fn func()) { db.onDelivery.Store(&fn) }

// ids makes the ids of the rows the store writes itself (deliveries).
func (db *DB) ids() *account.IDSource {
	db.idsOnce.Do(func() { db.idSource = account.NewIDSource(rand.Reader, time.Now) })
	return db.idSource
}
