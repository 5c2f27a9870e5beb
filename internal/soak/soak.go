// Package soak drives a bounded, mixed load against a running Roster server and
// reports what it saw: for each operation its count, errors and latency
// percentiles, and the server's memory sampled from its /metrics over the run.
//
// It seeds its own organization (a fresh slug each run), application, subscription,
// admins and members through the API as the operator, then runs Workers goroutines
// for Duration, each picking at random among: entitlement checks, member listing,
// seat assignment and unassignment on a quota smaller than the members, invitations
// (sent, then cancelled), and logins (each followed by a logout). Logins and
// invitations are paced under the server's default rate limits, so that a healthy
// server answers every request: any transport error, 5xx or unexpected status is
// an error, and so is a check whose answer disagrees with the seat its worker last
// gave or took (every worker owns a share of the members: only it changes their
// seats).
package soak

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config is one run.
type Config struct {
	BaseURL          string // the server, e.g. http://127.0.0.1:8080
	OperatorEmail    string // an operator's credentials, for seeding
	OperatorPassword string
	Duration         time.Duration // how long the mixed load runs (seeding not counted)
	Workers          int           // concurrent clients (default 8)
	Members          int           // members seeded (default 100); the quota is half of them
	// LoginEvery paces logins across all workers (default 2.5s: under roster
	// serve's limit of one login every 2 s per client address, after a burst).
	LoginEvery time.Duration
	// InviteEvery paces invitations across all workers (default 250ms); they are
	// spread over four admins, each under the limit of 1,000 then one every 3.6 s.
	InviteEvery time.Duration
	// SampleEvery is the period of the memory samples (default a tenth of Duration).
	SampleEvery  time.Duration
	MetricsToken string       // the server's --metrics-token, if any
	Client       *http.Client // default: keep-alive connections, one per worker
}

// Operations of the mix, in report order.
const (
	OpCheck    = "check"
	OpList     = "list members"
	OpAssign   = "assign seat"
	OpUnassign = "unassign seat"
	OpInvite   = "invite"
	OpCancel   = "cancel invitation"
	OpLogin    = "login"
	OpLogout   = "logout"
)

var opOrder = []string{OpCheck, OpList, OpAssign, OpUnassign, OpInvite, OpCancel, OpLogin, OpLogout}

// writeOps are the operations of the mix that write.
var writeOps = []string{OpAssign, OpUnassign, OpInvite, OpCancel, OpLogin, OpLogout}

// OpStats are one operation's figures.
type OpStats struct {
	Count, Errors       int
	P50, P99, P999, Max time.Duration
}

// MemSample is the server's memory at one moment, from its /metrics.
type MemSample struct {
	At         time.Duration // since the load began
	RSS        float64       // process_resident_memory_bytes
	HeapInuse  float64       // go_memstats_heap_inuse_bytes
	Goroutines float64       // go_goroutines
}

// Report is what a run saw.
type Report struct {
	Elapsed time.Duration
	Workers int
	Members int
	Ops     map[string]OpStats
	// Writes are the figures of every write of the mix together (seat changes,
	// invitations and their cancellations, logins and logouts).
	Writes  OpStats
	Samples []MemSample
	// Errors are the first errors seen (at most 20), for the log.
	Errors []string
}

// TotalErrors adds up every operation's errors.
func (r Report) TotalErrors() int {
	n := 0
	for _, s := range r.Ops {
		n += s.Errors
	}
	return n
}

// RSSTrend is the least-squares slope of the resident memory, in MiB per minute,
// over the samples taken from `from` into the load on (the sample taken before the
// load is always left out).
func (r Report) RSSTrend(from time.Duration) float64 {
	return r.trend(from, func(m MemSample) float64 { return m.RSS })
}

// HeapTrend is the same slope of the Go heap in use. Both are noisy: a login's
// argon2id hash takes 19 MiB for a moment.
func (r Report) HeapTrend(from time.Duration) float64 {
	return r.trend(from, func(m MemSample) float64 { return m.HeapInuse })
}

func (r Report) trend(from time.Duration, of func(MemSample) float64) float64 {
	var sx, sy, sxx, sxy, n float64
	for _, m := range r.Samples {
		if m.At <= 0 || m.At < from {
			continue
		}
		x, y := m.At.Minutes(), of(m)/(1<<20)
		sx, sy, sxx, sxy, n = sx+x, sy+y, sxx+x*x, sxy+x*y, n+1
	}
	d := n*sxx - sx*sx
	if n < 2 || d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// Write prints the report as Markdown tables.
func (r Report) Write(w io.Writer) {
	total := 0
	for _, s := range r.Ops {
		total += s.Count
	}
	fmt.Fprintf(w, "%d workers, %d members, %s: %d requests (%.0f/s), %d errors\n\n", r.Workers, r.Members,
		r.Elapsed.Round(time.Second), total, float64(total)/r.Elapsed.Seconds(), r.TotalErrors())
	fmt.Fprintln(w, "| operation | count | errors | p50 | p99 | p99.9 | max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, op := range opOrder {
		s, ok := r.Ops[op]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s |\n", op, s.Count, s.Errors, ms(s.P50), ms(s.P99), ms(s.P999), ms(s.Max))
	}
	if s := r.Writes; s.Count > 0 || s.Errors > 0 {
		fmt.Fprintf(w, "| every write | %d | %d | %s | %s | %s | %s |\n", s.Count, s.Errors, ms(s.P50), ms(s.P99), ms(s.P999), ms(s.Max))
	}
	fmt.Fprintln(w, "\n| at | RSS | Go heap in use | goroutines |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|")
	for _, m := range r.Samples {
		fmt.Fprintf(w, "| %s | %.1f MiB | %.1f MiB | %.0f |\n", m.At.Round(time.Second), m.RSS/(1<<20), m.HeapInuse/(1<<20), m.Goroutines)
	}
	half := r.Elapsed / 2
	fmt.Fprintf(w, "\nTrend (least squares) under load: RSS %+.2f MiB/min, Go heap in use %+.2f MiB/min; "+
		"over the second half: RSS %+.2f MiB/min, Go heap in use %+.2f MiB/min\n",
		r.RSSTrend(0), r.HeapTrend(0), r.RSSTrend(half), r.HeapTrend(half))
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error:", e)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// Run seeds, runs the load until Duration has passed or ctx ends, and reports.
// It returns an error only when seeding fails or the server's memory cannot be
// read; the load's own errors are in the report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Members <= 0 {
		cfg.Members = 100
	}
	if cfg.Members < 2*cfg.Workers {
		cfg.Members = 2 * cfg.Workers
	}
	if cfg.LoginEvery <= 0 {
		cfg.LoginEvery = 2500 * time.Millisecond
	}
	if cfg.InviteEvery <= 0 {
		cfg.InviteEvery = 250 * time.Millisecond
	}
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = max(cfg.Duration/10, time.Second)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: cfg.Workers + 4, MaxIdleConnsPerHost: cfg.Workers + 4, IdleConnTimeout: time.Minute}}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &state{cfg: cfg}
	if err := s.seed(ctx); err != nil {
		return Report{}, fmt.Errorf("seed: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	logins := rate.NewLimiter(rate.Every(cfg.LoginEvery), 1)
	invites := rate.NewLimiter(rate.Every(cfg.InviteEvery), 1)
	start := time.Now()
	rep := Report{Workers: cfg.Workers, Members: cfg.Members, Ops: map[string]OpStats{}}
	sample := func() error {
		m, err := s.memory(context.WithoutCancel(ctx))
		m.At = time.Since(start)
		if err == nil {
			rep.Samples = append(rep.Samples, m)
		}
		return err
	}
	if err := sample(); err != nil {
		return rep, err
	}
	workers := make([]*worker, cfg.Workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{s: s, id: i, rng: mrand.New(mrand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))),
			logins: logins, invites: invites, held: map[int]bool{}, lat: map[string][]time.Duration{}, errs: map[string]int{}}
		for m := i; m < len(s.members); m += cfg.Workers {
			w.own = append(w.own, m)
		}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx) }()
	}
	tick := time.NewTicker(cfg.SampleEvery)
	defer tick.Stop()
	var sampleErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			if err := sample(); err != nil && sampleErr == nil {
				sampleErr = err
			}
		}
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	if err := sample(); err != nil && sampleErr == nil {
		sampleErr = err
	}
	lat := map[string][]time.Duration{}
	errs := map[string]int{}
	for _, w := range workers {
		for op, ds := range w.lat {
			lat[op] = append(lat[op], ds...)
		}
		for op, n := range w.errs {
			errs[op] += n
		}
		for _, e := range w.errList {
			if len(rep.Errors) < 20 {
				rep.Errors = append(rep.Errors, e)
			}
		}
	}
	var writes []time.Duration
	writeErrs := 0
	for _, op := range opOrder {
		ds := lat[op]
		if len(ds) == 0 && errs[op] == 0 {
			continue
		}
		rep.Ops[op] = stats(ds, errs[op])
		if slices.Contains(writeOps, op) {
			writes, writeErrs = append(writes, ds...), writeErrs+errs[op]
		}
	}
	rep.Writes = stats(writes, writeErrs)
	return rep, sampleErr
}

// stats are the figures of the latencies ds (sorted in place) and errors.
func stats(ds []time.Duration, errors int) OpStats {
	slices.Sort(ds)
	st := OpStats{Count: len(ds), Errors: errors}
	if len(ds) > 0 {
		st.P50, st.P99, st.P999, st.Max = quantile(ds, 0.50), quantile(ds, 0.99), quantile(ds, 0.999), ds[len(ds)-1]
	}
	return st
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// state is what seeding made, shared by the workers.
type state struct {
	cfg     Config
	org     string   // slug
	app     string   // application key
	sub     string   // subscription id
	key     string   // the application's API key
	admins  []string // session tokens of the organization's admins
	members []string // account ids
	emails  []string // their emails, for logins
	seq     struct {
		sync.Mutex
		n int
	}
}

const password = "soak-password-1"

func (s *state) seed(ctx context.Context) error {
	var b [4]byte
	_, _ = rand.Read(b[:])
	tag := "soak-" + hex.EncodeToString(b[:])
	s.org, s.app = tag, tag
	op, err := s.login(ctx, s.cfg.OperatorEmail, s.cfg.OperatorPassword)
	if err != nil {
		return fmt.Errorf("operator login: %w", err)
	}
	if _, err := s.post(ctx, op, "/api/v1/organizations", map[string]any{"name": "Soak " + tag, "slug": tag, "kind": "organization"}, 201); err != nil {
		return err
	}
	if _, err := s.post(ctx, op, "/api/v1/applications", map[string]any{"key": tag, "name": "Soak " + tag}, 201); err != nil {
		return err
	}
	key, err := s.post(ctx, op, "/api/v1/applications/"+tag+"/keys", map[string]any{"name": "soak"}, 201)
	if err != nil {
		return err
	}
	s.key, _ = key["key"].(string)
	starts := time.Now().Add(-time.Hour).UTC()
	sub, err := s.post(ctx, op, "/api/v1/organizations/"+tag+"/subscriptions", map[string]any{"application": tag,
		"seats": s.cfg.Members / 2, "starts_at": starts, "ends_at": starts.Add(365 * 24 * time.Hour)}, 201)
	if err != nil {
		return err
	}
	s.sub, _ = sub["id"].(string)
	const admins = 4
	for i := range admins + s.cfg.Members {
		role, email := "member", fmt.Sprintf("m%04d@%s.test", i-admins, tag)
		if i < admins {
			role, email = "admin", fmt.Sprintf("admin%d@%s.test", i, tag)
		}
		m, err := s.post(ctx, op, "/api/v1/organizations/"+tag+"/members", map[string]any{"email": email,
			"first_name": "Soak", "last_name": fmt.Sprintf("Person %d", i), "role": role, "send_invite": false, "password": password}, 201)
		if err != nil {
			return err
		}
		if i < admins {
			token, err := s.login(ctx, email, password)
			if err != nil {
				return err
			}
			s.admins = append(s.admins, token)
			continue
		}
		acct, _ := m["account"].(map[string]any)
		id, _ := acct["id"].(string)
		s.members, s.emails = append(s.members, id), append(s.emails, email)
	}
	return nil
}

func (s *state) login(ctx context.Context, email, pw string) (string, error) {
	out, err := s.post(ctx, "", "/api/v1/auth/login", map[string]any{"email": email, "password": pw}, 200)
	if err != nil {
		return "", err
	}
	token, _ := out["token"].(string)
	return token, nil
}

// post sends a JSON body and wants the status; it returns the decoded answer.
func (s *state) post(ctx context.Context, token, path string, body any, want int) (map[string]any, error) {
	status, out, err := s.call(ctx, token, "POST", path, body)
	if err == nil && status != want {
		err = fmt.Errorf("POST %s = %d, want %d: %v", path, status, want, out)
	}
	return out, err
}

// call sends one request and decodes a JSON answer.
func (s *state) call(ctx context.Context, token, method, path string, body any) (int, map[string]any, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	return send(ctx, s.cfg.Client, s.cfg.BaseURL, token, method, path, "application/json", b)
}

// send sends one request to base with client, the body (if any) of contentType, as
// token (none when ""), and decodes a JSON answer.
func send(ctx context.Context, client *http.Client, base, token, method, path, contentType string, body []byte) (int, map[string]any, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, err
	}
	var out map[string]any
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			return res.StatusCode, nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, out, nil
}

var sampleLine = regexp.MustCompile(`(?m)^(process_resident_memory_bytes|go_memstats_heap_inuse_bytes|go_goroutines) (\S+)$`)

// memory reads the server's memory from its /metrics.
func (s *state) memory(ctx context.Context) (MemSample, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.cfg.BaseURL+"/metrics", nil)
	if err != nil {
		return MemSample{}, err
	}
	if s.cfg.MetricsToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.MetricsToken)
	}
	res, err := s.cfg.Client.Do(req)
	if err != nil {
		return MemSample{}, fmt.Errorf("read the server's memory: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		return MemSample{}, fmt.Errorf("read the server's memory: GET /metrics = %d %v", res.StatusCode, err)
	}
	var m MemSample
	found := 0
	for _, g := range sampleLine.FindAllStringSubmatch(string(raw), -1) {
		v, err := strconv.ParseFloat(g[2], 64)
		if err != nil {
			continue
		}
		found++
		switch g[1] {
		case "process_resident_memory_bytes":
			m.RSS = v
		case "go_memstats_heap_inuse_bytes":
			m.HeapInuse = v
		case "go_goroutines":
			m.Goroutines = v
		}
	}
	if found < 3 {
		return m, errors.New("read the server's memory: /metrics lacks process_resident_memory_bytes, go_memstats_heap_inuse_bytes or go_goroutines")
	}
	return m, nil
}

// worker is one client.
type worker struct {
	s       *state
	id      int
	rng     *mrand.Rand
	logins  *rate.Limiter
	invites *rate.Limiter
	own     []int        // indexes of the members whose seats only this worker changes
	held    map[int]bool // which of them hold a seat
	lat     map[string][]time.Duration
	errs    map[string]int
	errList []string
}

func (w *worker) run(ctx context.Context) {
	admin := w.s.admins[w.id%len(w.s.admins)]
	for ctx.Err() == nil {
		switch p := w.rng.IntN(100); {
		case p < 5 && w.logins.Allow():
			w.login(ctx)
		case p < 15 && w.invites.Allow():
			w.invite(ctx, admin)
		case p < 40:
			w.seat(ctx, admin)
		case p < 60:
			w.list(ctx, admin)
		default:
			w.check(ctx)
		}
	}
}

// do times one request and counts it; ok judges the answer. A request cut short
// by the end of the run is not counted.
func (w *worker) do(ctx context.Context, op, token, method, path string, body any, ok func(int, map[string]any) bool) (map[string]any, bool) {
	start := time.Now()
	status, out, err := w.s.call(ctx, token, method, path, body)
	d := time.Since(start)
	if ctx.Err() != nil {
		return nil, false
	}
	if err == nil && status < 500 && ok(status, out) {
		w.lat[op] = append(w.lat[op], d)
		return out, true
	}
	w.errs[op]++
	if err == nil {
		err = fmt.Errorf("%s %s = %d %v", method, path, status, out)
	}
	if len(w.errList) < 20 {
		w.errList = append(w.errList, fmt.Sprintf("%s: %v", op, err))
	}
	return out, false
}

func is(want int) func(int, map[string]any) bool {
	return func(status int, _ map[string]any) bool { return status == want }
}

func (w *worker) check(ctx context.Context) {
	m := w.own[w.rng.IntN(len(w.own))]
	path := "/api/v1/check?organization=" + w.s.org + "&account=" + w.s.members[m]
	w.do(ctx, OpCheck, w.s.key, "GET", path, nil, func(status int, out map[string]any) bool {
		// Only this worker changes this member's seat: the answer must follow it.
		return status == 200 && out["allowed"] == w.held[m]
	})
}

func (w *worker) list(ctx context.Context, admin string) {
	base := "/api/v1/organizations/" + w.s.org + "/members?limit=50"
	filters := []string{"", "&state=active", "&application=" + w.s.app, "&q=person+1", "&role=member"}
	out, ok := w.do(ctx, OpList, admin, "GET", base+filters[w.rng.IntN(len(filters))], nil, is(200))
	if next, _ := out["next_cursor"].(string); ok && next != "" && w.rng.IntN(2) == 0 {
		w.do(ctx, OpList, admin, "GET", base+"&cursor="+url.QueryEscape(next), nil, is(200))
	}
}

func (w *worker) seat(ctx context.Context, admin string) {
	m := w.own[w.rng.IntN(len(w.own))]
	path := "/api/v1/organizations/" + w.s.org + "/subscriptions/" + w.s.sub + "/seats/" + w.s.members[m]
	if w.held[m] {
		if _, ok := w.do(ctx, OpUnassign, admin, "DELETE", path, nil, is(204)); ok {
			w.held[m] = false
		}
		return
	}
	w.do(ctx, OpAssign, admin, "PUT", path, nil, func(status int, out map[string]any) bool {
		switch {
		case status == 200:
			w.held[m] = true
			return true
		case status == 409 && out["type"] == "https://roster.dev/problems/quota-exceeded":
			return true // the quota is half the members: a lost race is an answer
		}
		return false
	})
}

func (w *worker) invite(ctx context.Context, admin string) {
	w.s.seq.Lock()
	w.s.seq.n++
	n := w.s.seq.n
	w.s.seq.Unlock()
	email := fmt.Sprintf("invitee%06d@%s.test", n, w.s.org)
	out, ok := w.do(ctx, OpInvite, admin, "POST", "/api/v1/organizations/"+w.s.org+"/invitations",
		map[string]any{"emails": []string{email}, "role": "member"}, func(status int, out map[string]any) bool {
			rs, _ := out["results"].([]any)
			if status != 200 || len(rs) != 1 {
				return false
			}
			r, _ := rs[0].(map[string]any)
			return r["invitation"] != nil && r["error"] == nil
		})
	if !ok {
		return
	}
	inv := out["results"].([]any)[0].(map[string]any)["invitation"].(map[string]any)
	id, _ := inv["id"].(string)
	w.do(ctx, OpCancel, admin, "DELETE", "/api/v1/organizations/"+w.s.org+"/invitations/"+id, nil, is(204))
}

func (w *worker) login(ctx context.Context) {
	// Round robin over the members: each email logs in seldom enough for the
	// per-email limit (10, then one every 30 s).
	w.s.seq.Lock()
	w.s.seq.n++
	email := w.s.emails[w.s.seq.n%len(w.s.emails)]
	w.s.seq.Unlock()
	out, ok := w.do(ctx, OpLogin, "", "POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password}, is(200))
	if !ok {
		return
	}
	token, _ := out["token"].(string)
	w.do(ctx, OpLogout, token, "POST", "/api/v1/auth/logout", nil, is(204))
}
