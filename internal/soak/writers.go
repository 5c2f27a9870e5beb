package soak

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// WritersConfig is one run of the writers workload: Workers concurrent writers of
// every kind into one organization, through one or more Roster processes that
// share a database.
type WritersConfig struct {
	// BaseURLs are the servers; each request goes to the next one in turn.
	BaseURLs         []string
	OperatorEmail    string
	OperatorPassword string
	Duration         time.Duration // how long the load runs (seeding not counted)
	// Rounds, when positive, replaces Duration: each worker does Rounds operations,
	// taking the kinds in turn from one that depends on its number, so that a short
	// run does every kind.
	Rounds    int
	Workers   int // concurrent writers (default 16)
	Seats     int // each subscription's quota (default 100,000)
	PerWorker int // members seeded per worker for its seat changes (default 8)
	// InviteBatch is the new emails per bulk invitation (default 5); ImportRows the
	// rows of each imported CSV (default 3).
	InviteBatch, ImportRows int
	MetricsToken            string
	Client                  *http.Client
}

// The writers' kinds of operation, in report order.
const (
	KindInvite    = "bulk invitations"
	KindAdd       = "add member"
	KindSeats     = "bulk seat change"
	KindImport    = "import (upload → done)"
	KindSCIMUser  = "SCIM POST /Users"
	KindSCIMGroup = "SCIM PATCH /Groups"
)

var kindOrder = []string{KindInvite, KindAdd, KindSeats, KindImport, KindSCIMUser, KindSCIMGroup}

// KindStats are one kind's figures. Requests counts every HTTP request the
// operations made (an import's upload and its polls); FiveXX those answered 5xx;
// Errors the operations that failed in any way (a 5xx, a transport error, an
// unexpected answer). Latencies are of the successful operations.
type KindStats struct {
	Ops, Requests, FiveXX, Errors int
	P50, P99, Max                 time.Duration
}

// WritersReport is what a writers run saw.
type WritersReport struct {
	Elapsed time.Duration
	Workers int
	Bases   []string
	Kinds   map[string]KindStats
	// Written counts what the load made: members, invitations, seat changes (one per
	// seat given or taken).
	Members, Invitations, SeatChanges int
	// Retries are each server's roster_store_retries_total by SQLSTATE (PostgreSQL
	// only: absent on SQLite).
	Retries []map[string]float64
	// Invariants are the checks made after the load, each with its outcome.
	Invariants []Invariant
	Errors     []string // the first errors seen (at most 20)
}

// Invariant is one check of the data after the load.
type Invariant struct {
	What string
	OK   bool
}

// FiveXX adds up the 5xx answers.
func (r WritersReport) FiveXX() int {
	n := 0
	for _, k := range r.Kinds {
		n += k.FiveXX
	}
	return n
}

// Failed adds up the failed operations.
func (r WritersReport) Failed() int {
	n := 0
	for _, k := range r.Kinds {
		n += k.Errors
	}
	return n
}

// Broken lists the invariants that do not hold.
func (r WritersReport) Broken() []string {
	var out []string
	for _, i := range r.Invariants {
		if !i.OK {
			out = append(out, i.What)
		}
	}
	return out
}

// DeadlockRetries adds up the servers' transactions run again after a deadlock.
func (r WritersReport) DeadlockRetries() float64 {
	n := 0.0
	for _, m := range r.Retries {
		n += m["40P01"]
	}
	return n
}

// Write prints the report as Markdown.
func (r WritersReport) Write(w io.Writer) {
	ops, reqs := 0, 0
	for _, k := range r.Kinds {
		ops, reqs = ops+k.Ops, reqs+k.Requests
	}
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "%d writers over %d server(s), %s: %d operations (%.1f/s), %d requests (%.1f/s), %d 5xx, %d failed\n\n",
		r.Workers, len(r.Bases), r.Elapsed.Round(100*time.Millisecond), ops, float64(ops)/secs, reqs, float64(reqs)/secs, r.FiveXX(), r.Failed())
	fmt.Fprintln(w, "| kind | operations | per second | requests | 5xx | failed | p50 | p99 | max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, kind := range kindOrder {
		k, ok := r.Kinds[kind]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %d | %d | %d | %s | %s | %s |\n", kind, k.Ops, float64(k.Ops)/secs,
			k.Requests, k.FiveXX, k.Errors, ms(k.P50), ms(k.P99), ms(k.Max))
	}
	fmt.Fprintf(w, "\nWritten: %d members (%.1f/s), %d invitations, %d seats given or taken (%.1f/s)\n",
		r.Members, float64(r.Members)/secs, r.Invitations, r.SeatChanges, float64(r.SeatChanges)/secs)
	for i, m := range r.Retries {
		if len(m) == 0 {
			fmt.Fprintf(w, "Server %d (%s): no store retries reported\n", i+1, r.Bases[i])
			continue
		}
		fmt.Fprintf(w, "Server %d (%s): transactions retried after a deadlock (40P01) %.0f, after a serialization failure (40001) %.0f\n",
			i+1, r.Bases[i], m["40P01"], m["40001"])
	}
	fmt.Fprintln(w, "\nInvariants:")
	for _, inv := range r.Invariants {
		mark := "ok"
		if !inv.OK {
			mark = "BROKEN"
		}
		fmt.Fprintf(w, "- %s: %s\n", mark, inv.What)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error:", e)
	}
}

// wstate is what seeding made, shared by the writers.
type wstate struct {
	cfg     WritersConfig
	next    atomic.Uint64 // round robin over the bases
	org     string        // slug
	apps    [2]string     // application keys
	subs    [2]string     // subscription ids
	scim    string        // the SCIM token
	group   string        // the SCIM group's id
	op      string        // the operator's session
	admins  []string      // one admin's session per worker
	members [][]string    // account ids whose seats each worker changes
}

// RunWriters seeds an organization (two applications with a subscription each, a
// SCIM token and group, an admin per worker and members for the seat changes), runs
// the writers, then checks what they wrote through the API. It returns an error only
// when seeding fails; the load's failures and the invariants are in the report.
func RunWriters(ctx context.Context, cfg WritersConfig) (WritersReport, error) {
	if len(cfg.BaseURLs) == 0 {
		return WritersReport{}, fmt.Errorf("no server to load")
	}
	for i, b := range cfg.BaseURLs {
		cfg.BaseURLs[i] = strings.TrimRight(strings.TrimSpace(b), "/")
	}
	cfg.Workers = cmp(cfg.Workers, 16)
	cfg.Seats = cmp(cfg.Seats, 100_000)
	cfg.PerWorker = cmp(cfg.PerWorker, 8)
	cfg.InviteBatch = cmp(cfg.InviteBatch, 5)
	cfg.ImportRows = cmp(cfg.ImportRows, 3)
	if cfg.Client == nil {
		n := cfg.Workers + 4
		cfg.Client = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
			MaxIdleConns: n * len(cfg.BaseURLs), MaxIdleConnsPerHost: n, IdleConnTimeout: time.Minute}}
	}
	s := &wstate{cfg: cfg}
	if err := s.seed(ctx); err != nil {
		return WritersReport{}, fmt.Errorf("seed: %w", err)
	}
	baseline, err := s.memberTotal(ctx, 0, "")
	if err != nil {
		return WritersReport{}, fmt.Errorf("seed: %w", err)
	}

	// The deadline is checked between operations: an operation under way runs to
	// its end, so that every outcome is known and the invariants can be exact.
	deadline := time.Now().Add(cfg.Duration)
	workers := make([]*writer, cfg.Workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &writer{s: s, id: i, rng: mrand.New(mrand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))),
			held: [2]map[string]bool{{}, {}}, kinds: map[string]*kindRun{}}
		for _, k := range kindOrder {
			w.kinds[k] = &kindRun{}
		}
		workers[i] = w
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				if cfg.Rounds > 0 && n >= cfg.Rounds || cfg.Rounds <= 0 && time.Now().After(deadline) {
					return
				}
				kind := w.rng.IntN(5)
				if cfg.Rounds > 0 {
					kind = (w.id + n) % 5
				}
				w.one(ctx, kind)
			}
		})
	}
	wg.Wait()
	rep := WritersReport{Elapsed: time.Since(start), Workers: cfg.Workers, Bases: cfg.BaseURLs, Kinds: map[string]KindStats{}}

	total := map[string]*kindRun{}
	unknown := ctx.Err() != nil // an interrupted operation's outcome is not known
	var expSeats [2]int
	for _, w := range workers {
		for k, r := range w.kinds {
			t := total[k]
			if t == nil {
				t = &kindRun{}
				total[k] = t
			}
			t.lat = append(t.lat, r.lat...)
			t.requests, t.fiveXX, t.errors = t.requests+r.requests, t.fiveXX+r.fiveXX, t.errors+r.errors
			unknown = unknown || r.unknown
		}
		rep.Members += w.members
		rep.Invitations += w.invitations
		rep.SeatChanges += w.seatChanges
		for i := range 2 {
			expSeats[i] += w.seats[i] + len(w.held[i])
		}
		for _, e := range w.errList {
			if len(rep.Errors) < 20 {
				rep.Errors = append(rep.Errors, e)
			}
		}
	}
	for _, k := range kindOrder {
		t := total[k]
		st := stats(t.lat, t.errors)
		rep.Kinds[k] = KindStats{Ops: st.Count + t.errors, Requests: t.requests, FiveXX: t.fiveXX, Errors: t.errors,
			P50: st.P50, P99: st.P99, Max: st.Max}
	}
	ictx := context.WithoutCancel(ctx)
	rep.Invariants = s.invariants(ictx, baseline+rep.Members, expSeats, total[KindSCIMGroup].ok(), !unknown)
	for i := range cfg.BaseURLs {
		rep.Retries = append(rep.Retries, s.retries(ictx, i))
	}
	return rep, nil
}

func cmp(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// kindRun is one kind's raw figures.
type kindRun struct {
	lat                      []time.Duration
	requests, fiveXX, errors int
	unknown                  bool // some operation's outcome is not known (a transport error)
}

func (k *kindRun) ok() int { return len(k.lat) }

// base is the next server in turn.
func (s *wstate) base() string {
	n := s.next.Add(1)
	return s.cfg.BaseURLs[int(n%uint64(len(s.cfg.BaseURLs)))]
}

// call sends one request to base (the next in turn when empty) and decodes a JSON
// answer.
func (s *wstate) call(ctx context.Context, base, token, method, path, contentType string, body []byte) (int, map[string]any, error) {
	if base == "" {
		base = s.base()
	}
	return send(ctx, s.cfg.Client, base, token, method, path, contentType, body)
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings, numbers and slices are sent
	}
	return b
}

// must sends a JSON request during seeding and wants the status.
func (s *wstate) must(ctx context.Context, token, method, path string, body any, want int) (map[string]any, error) {
	var b []byte
	if body != nil {
		b = jsonBody(body)
	}
	status, out, err := s.call(ctx, "", token, method, path, "application/json", b)
	if err == nil && status != want {
		err = fmt.Errorf("%s %s = %d, want %d: %v", method, path, status, want, out)
	}
	return out, err
}

func (s *wstate) seed(ctx context.Context) error {
	var b [4]byte
	_, _ = rand.Read(b[:])
	tag := "writers-" + hex.EncodeToString(b[:])
	s.org = tag
	login, err := s.must(ctx, "", "POST", "/api/v1/auth/login", map[string]any{"email": s.cfg.OperatorEmail, "password": s.cfg.OperatorPassword}, 200)
	if err != nil {
		return fmt.Errorf("operator login: %w", err)
	}
	s.op, _ = login["token"].(string)
	if _, err := s.must(ctx, s.op, "POST", "/api/v1/organizations", map[string]any{"name": "Writers " + tag, "slug": tag, "kind": "organization"}, 201); err != nil {
		return err
	}
	starts := time.Now().Add(-time.Hour).UTC()
	for i, suffix := range []string{"-a", "-b"} {
		s.apps[i] = tag + suffix
		if _, err := s.must(ctx, s.op, "POST", "/api/v1/applications", map[string]any{"key": s.apps[i], "name": "Writers " + s.apps[i]}, 201); err != nil {
			return err
		}
		sub, err := s.must(ctx, s.op, "POST", "/api/v1/organizations/"+tag+"/subscriptions", map[string]any{"application": s.apps[i],
			"seats": s.cfg.Seats, "starts_at": starts, "ends_at": starts.Add(365 * 24 * time.Hour)}, 201)
		if err != nil {
			return err
		}
		s.subs[i], _ = sub["id"].(string)
	}
	tok, err := s.must(ctx, s.op, "POST", "/api/v1/organizations/"+tag+"/scim-tokens", map[string]any{"description": "writers"}, 201)
	if err != nil {
		return err
	}
	s.scim, _ = tok["token"].(string)
	g, err := s.must(ctx, s.scim, "POST", "/scim/v2/organizations/"+tag+"/Groups", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Provisioned"}, 201)
	if err != nil {
		return err
	}
	s.group, _ = g["id"].(string)

	// The admins and the seat changers' members, added four at a time.
	s.admins = make([]string, s.cfg.Workers)
	s.members = make([][]string, s.cfg.Workers)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		jobs     = make(chan int)
	)
	for range 4 {
		wg.Go(func() {
			for w := range jobs {
				err := s.seedWorker(ctx, tag, w)
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for w := range s.cfg.Workers {
		jobs <- w
	}
	close(jobs)
	wg.Wait()
	return firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (s *wstate) seedWorker(ctx context.Context, tag string, w int) error {
	email := fmt.Sprintf("admin%02d@%s.test", w, tag)
	if _, err := s.must(ctx, s.op, "POST", "/api/v1/organizations/"+tag+"/members", map[string]any{"email": email,
		"first_name": "Admin", "last_name": strconv.Itoa(w), "role": "admin", "send_invite": false, "password": password}, 201); err != nil {
		return err
	}
	login, err := s.must(ctx, "", "POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password}, 200)
	if err != nil {
		return err
	}
	admin, _ := login["token"].(string)
	ids := make([]string, 0, s.cfg.PerWorker)
	for i := range s.cfg.PerWorker {
		m, err := s.must(ctx, s.op, "POST", "/api/v1/organizations/"+tag+"/members", map[string]any{
			"email": fmt.Sprintf("seat%02d-%02d@%s.test", w, i, tag), "first_name": "Seat", "last_name": strconv.Itoa(i),
			"role": "member", "send_invite": false, "password": password}, 201)
		if err != nil {
			return err
		}
		acct, _ := m["account"].(map[string]any)
		id, _ := acct["id"].(string)
		ids = append(ids, id)
	}
	s.admins[w], s.members[w] = admin, ids
	return nil
}

// memberTotal is the organization's member count as the list says it, through the
// server at base index i, with the query q (e.g. "&subscription=…").
func (s *wstate) memberTotal(ctx context.Context, i int, q string) (int, error) {
	status, out, err := s.call(ctx, s.cfg.BaseURLs[i], s.op, "GET", "/api/v1/organizations/"+s.org+"/members?limit=1"+q, "", nil)
	if err != nil || status != 200 {
		return 0, fmt.Errorf("list members = %d %v %v", status, out, err)
	}
	n, _ := out["total"].(float64)
	return int(n), nil
}

// invariants reads back, through every server, what the writers made: no
// subscription holds more seats than its quota, its counter agrees with the members
// holding its seats, the organization's member counts agree with its list, and —
// when every operation's outcome is known — all of them are exactly what the load
// did.
func (s *wstate) invariants(ctx context.Context, members int, seats [2]int, grouped int, exact bool) []Invariant {
	var out []Invariant
	add := func(ok bool, format string, args ...any) {
		out = append(out, Invariant{What: fmt.Sprintf(format, args...), OK: ok})
	}
	for i, base := range s.cfg.BaseURLs {
		via := fmt.Sprintf("server %d", i+1)
		for a, sub := range s.subs {
			status, got, err := s.call(ctx, base, s.op, "GET", "/api/v1/organizations/"+s.org+"/subscriptions/"+sub, "", nil)
			if err != nil || status != 200 {
				add(false, "%s: read subscription of %s = %d %v", via, s.apps[a], status, err)
				continue
			}
			assigned, _ := got["assigned"].(float64)
			quota, _ := got["seats"].(float64)
			add(assigned <= quota, "%s: %s holds %.0f seats of its quota of %.0f", via, s.apps[a], assigned, quota)
			holders, err := s.memberTotal(ctx, i, "&subscription="+sub)
			add(err == nil && holders == int(assigned), "%s: %s's counter says %.0f seats, %d members hold one (%v)", via, s.apps[a], assigned, holders, err)
			if exact {
				add(int(assigned) == seats[a], "%s: %s holds %.0f seats, the writers gave %d", via, s.apps[a], assigned, seats[a])
			}
		}
		total, err := s.memberTotal(ctx, i, "")
		status, sum, serr := s.call(ctx, base, s.op, "GET", "/api/v1/organizations/"+s.org+"/summary", "", nil)
		counted := -1.0
		if serr == nil && status == 200 {
			m, _ := sum["members"].(map[string]any)
			counted, _ = m["total"].(float64)
		}
		add(err == nil && int(counted) == total, "%s: the member counts say %.0f, the list %d", via, counted, total)
		if exact {
			add(total == members, "%s: %d members listed, %d expected", via, total, members)
		}
		status, g, err := s.call(ctx, base, s.scim, "GET", "/scim/v2/organizations/"+s.org+"/Groups/"+s.group, "", nil)
		ms, _ := g["members"].([]any)
		if err != nil || status != 200 {
			add(false, "%s: read the SCIM group = %d %v", via, status, err)
		} else if exact {
			add(len(ms) == grouped, "%s: the SCIM group has %d members, the writers added %d", via, len(ms), grouped)
		}
	}
	if !exact {
		add(true, "exact counts not checked: some operation's outcome is unknown (transport error or interruption)")
	}
	return out
}

var retriesLine = regexp.MustCompile(`(?m)^roster_store_retries_total\{code="(\w+)"\} (\S+)$`)

// retries reads a server's store retries from its /metrics (empty when it has none).
func (s *wstate) retries(ctx context.Context, i int) map[string]float64 {
	req, err := http.NewRequestWithContext(ctx, "GET", s.cfg.BaseURLs[i]+"/metrics", nil)
	if err != nil {
		return nil
	}
	if s.cfg.MetricsToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.MetricsToken)
	}
	res, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]float64{}
	for _, g := range retriesLine.FindAllStringSubmatch(string(raw), -1) {
		if v, err := strconv.ParseFloat(g[2], 64); err == nil {
			out[g[1]] = v
		}
	}
	return out
}

// writer is one client.
type writer struct {
	s     *wstate
	id    int
	rng   *mrand.Rand
	seq   int
	held  [2]map[string]bool // the seats of its members it holds, per subscription
	kinds map[string]*kindRun
	// What its successful operations wrote.
	members, invitations, seatChanges int
	seats                             [2]int // seats given to new members (invitations, adds, imports)
	errList                           []string
}

func (w *writer) email(what string) string {
	w.seq++
	return fmt.Sprintf("%s-w%02d-%05d@%s.test", what, w.id, w.seq, w.s.org)
}

// apps lists both applications, in a random order.
func (w *writer) apps() []string {
	if w.rng.IntN(2) == 0 {
		return []string{w.s.apps[0], w.s.apps[1]}
	}
	return []string{w.s.apps[1], w.s.apps[0]}
}

func (w *writer) one(ctx context.Context, kind int) {
	switch kind {
	case 0:
		w.invite(ctx)
	case 1:
		w.add(ctx)
	case 2:
		w.changeSeats(ctx)
	case 3:
		w.importCSV(ctx)
	default:
		w.provision(ctx)
	}
}

// request sends one request of kind and counts it; it returns the status and the
// answer, or ok false after counting a transport error or a 5xx as the kind's
// failure.
func (w *writer) request(ctx context.Context, kind, base, token, method, path, contentType string, body []byte) (int, map[string]any, bool) {
	k := w.kinds[kind]
	k.requests++
	status, out, err := w.s.call(ctx, base, token, method, path, contentType, body)
	switch {
	case err != nil:
		k.unknown = true
		w.failed(kind, fmt.Errorf("%s %s: %w", method, path, err))
		return status, out, false
	case status >= 500:
		k.fiveXX++
		k.unknown = true // a 5xx may have been applied (an answer lost after commit)
		w.failed(kind, fmt.Errorf("%s %s = %d %v", method, path, status, out))
		return status, out, false
	}
	return status, out, true
}

func (w *writer) failed(kind string, err error) {
	w.kinds[kind].errors++
	if len(w.errList) < 20 {
		w.errList = append(w.errList, kind+": "+err.Error())
	}
}

func (w *writer) jsonRequest(ctx context.Context, kind, token, method, path string, body any, want int) (map[string]any, bool) {
	status, out, ok := w.request(ctx, kind, "", token, method, path, "application/json", jsonBody(body))
	if ok && status != want {
		w.failed(kind, fmt.Errorf("%s %s = %d, want %d: %v", method, path, status, want, out))
		return out, false
	}
	return out, ok
}

func (w *writer) done(kind string, start time.Time) {
	w.kinds[kind].lat = append(w.kinds[kind].lat, time.Since(start))
}

// invite invites InviteBatch new people with a seat of both applications.
func (w *writer) invite(ctx context.Context) {
	emails := make([]string, w.s.cfg.InviteBatch)
	for i := range emails {
		emails[i] = w.email("inv")
	}
	start := time.Now()
	out, ok := w.jsonRequest(ctx, KindInvite, w.s.admins[w.id], "POST", "/api/v1/organizations/"+w.s.org+"/invitations",
		map[string]any{"emails": emails, "role": "member", "applications": w.apps()}, 200)
	if !ok {
		return
	}
	rs, _ := out["results"].([]any)
	sent := 0
	for _, r := range rs {
		if m, _ := r.(map[string]any); m["invitation"] != nil && m["error"] == nil {
			sent++
		}
	}
	w.members, w.invitations, w.seats[0], w.seats[1] = w.members+sent, w.invitations+sent, w.seats[0]+sent, w.seats[1]+sent
	if sent != len(emails) {
		w.failed(KindInvite, fmt.Errorf("%d of %d invitations sent: %v", sent, len(emails), out))
		return
	}
	w.done(KindInvite, start)
}

// add adds one new active member with a password and a seat of both applications.
func (w *writer) add(ctx context.Context) {
	start := time.Now()
	_, ok := w.jsonRequest(ctx, KindAdd, w.s.admins[w.id], "POST", "/api/v1/organizations/"+w.s.org+"/members", map[string]any{
		"email": w.email("add"), "first_name": "Added", "last_name": "Writer", "role": "member",
		"send_invite": false, "password": password, "applications": w.apps()}, 201)
	if ok {
		w.members++
		w.seats[0]++
		w.seats[1]++
		w.done(KindAdd, start)
	}
}

// changeSeats gives and takes seats of the worker's own members on both
// subscriptions, one bulk request each, in a random order.
func (w *writer) changeSeats(ctx context.Context) {
	order := []int{0, 1}
	if w.rng.IntN(2) == 1 {
		order = []int{1, 0}
	}
	for _, i := range order {
		var assign, unassign []string
		for _, id := range w.s.members[w.id] {
			if w.rng.IntN(2) == 0 {
				continue
			}
			if w.held[i][id] {
				unassign = append(unassign, id)
			} else {
				assign = append(assign, id)
			}
		}
		if len(assign)+len(unassign) == 0 {
			id := w.s.members[w.id][w.rng.IntN(len(w.s.members[w.id]))]
			if w.held[i][id] {
				unassign = []string{id}
			} else {
				assign = []string{id}
			}
		}
		start := time.Now()
		_, ok := w.jsonRequest(ctx, KindSeats, w.s.admins[w.id], "POST", "/api/v1/organizations/"+w.s.org+"/subscriptions/"+w.s.subs[i]+"/seats",
			map[string]any{"assign": assign, "unassign": unassign}, 200)
		if !ok {
			continue
		}
		for _, id := range assign {
			w.held[i][id] = true
		}
		for _, id := range unassign {
			delete(w.held[i], id)
		}
		w.seatChanges += len(assign) + len(unassign)
		w.done(KindSeats, start)
	}
}

// importCSV uploads a CSV of ImportRows new people, every one with a seat of both
// applications, every other one invited, and waits until the import is done.
func (w *writer) importCSV(ctx context.Context) {
	var csv strings.Builder
	csv.WriteString("email,first_name,last_name,role,applications,send_invite\n")
	apps := strings.Join(w.apps(), ";")
	for i := range w.s.cfg.ImportRows {
		invite := "no"
		if i%2 == 1 {
			invite = "yes"
		}
		fmt.Fprintf(&csv, "%s,Imported,Row %d,member,%s,%s\n", w.email("imp"), i, apps, invite)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "people.csv")
	if err == nil {
		_, err = io.WriteString(fw, csv.String())
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		w.failed(KindImport, err)
		return
	}
	start := time.Now()
	path := "/api/v1/organizations/" + w.s.org + "/imports"
	status, out, ok := w.request(ctx, KindImport, "", w.s.admins[w.id], "POST", path, mw.FormDataContentType(), body.Bytes())
	if !ok {
		return
	}
	if status != 202 {
		w.failed(KindImport, fmt.Errorf("POST %s = %d, want 202: %v", path, status, out))
		return
	}
	id, _ := out["id"].(string)
	for {
		if state, _ := out["state"].(string); state == "done" || state == "failed" {
			break
		}
		if time.Since(start) > 5*time.Minute {
			w.kinds[KindImport].unknown = true
			w.failed(KindImport, fmt.Errorf("import %s not done after 5 minutes: %v", id, out))
			return
		}
		time.Sleep(50 * time.Millisecond)
		status, out, ok = w.request(ctx, KindImport, "", w.s.admins[w.id], "GET", path+"/"+id, "", nil)
		if !ok {
			w.kinds[KindImport].unknown = true // it goes on in the background
			return
		}
		if status != 200 {
			w.kinds[KindImport].unknown = true
			w.failed(KindImport, fmt.Errorf("GET %s/%s = %d: %v", path, id, status, out))
			return
		}
	}
	rows := w.s.cfg.ImportRows
	created, _ := out["created"].(float64)
	invited, _ := out["invited"].(float64)
	n := int(created + invited)
	w.members, w.invitations, w.seats[0], w.seats[1] = w.members+n, w.invitations+int(invited), w.seats[0]+n, w.seats[1]+n
	if out["state"] != "done" || n != rows || out["failed"] != 0.0 {
		w.failed(KindImport, fmt.Errorf("import %s: %v", id, out))
		return
	}
	w.done(KindImport, start)
}

// provision creates a user through SCIM, then adds it to the SCIM group.
func (w *writer) provision(ctx context.Context) {
	email := w.email("scim")
	start := time.Now()
	u, ok := w.jsonRequest(ctx, KindSCIMUser, w.s.scim, "POST", "/scim/v2/organizations/"+w.s.org+"/Users", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": email, "active": true,
		"name":   map[string]any{"givenName": "Provisioned", "familyName": "Writer"},
		"emails": []any{map[string]any{"value": email, "primary": true}}}, 201)
	if !ok {
		return
	}
	w.members++
	w.done(KindSCIMUser, start)
	id, _ := u["id"].(string)
	start = time.Now()
	status, out, ok := w.request(ctx, KindSCIMGroup, "", w.s.scim, "PATCH", "/scim/v2/organizations/"+w.s.org+"/Groups/"+w.s.group, "application/scim+json",
		jsonBody(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}}}))
	if !ok {
		return
	}
	if !slices.Contains([]int{200, 204}, status) {
		w.failed(KindSCIMGroup, fmt.Errorf("PATCH Groups/%s = %d: %v", w.s.group, status, out))
		return
	}
	w.done(KindSCIMGroup, start)
}
