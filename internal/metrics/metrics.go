// Package metrics is Roster's Prometheus instrumentation: one registry per server
// (no global registration), the HTTP request counters and latency histograms by
// route pattern, the entitlement check's decisions, the outbox worker's deliveries,
// and gauges of the outbox and the import jobs read from the store at scrape time.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/buildinfo"
)

// Store is what the gauges read at scrape time (*sqlstore.DB implements it).
type Store interface {
	CountEmails(ctx context.Context) (map[account.OutboxState]int, error)
	CountImports(ctx context.Context) (map[account.ImportState]int, error)
}

// Options tune a Metrics; zero fields take the defaults.
type Options struct {
	// StoreTimeout bounds the store's queries of one scrape (default 2s).
	StoreTimeout time.Duration
	// StoreEvery is how long the store's counts are reused between scrapes (default
	// 5s), so that several scrapers, or a scraper gone wild, cost the store little.
	StoreEvery time.Duration
	// CheckCache reports the entitlement checks answered from memory and those that
	// read the store (account.Service.CheckCacheStats); nil leaves the counters out.
	CheckCache func() (hits, misses uint64)
	// CacheLease reports whether this process holds the cache lease now, and how
	// many leases it took, had revoked by another process's write, and let lapse
	// (sqlstore.DB.CacheLeaseStats); nil leaves the gauge and counters out.
	CacheLease func() (held bool, taken, revoked, lapsed uint64)
	// StoreRetries reports how many write transactions the store ran again, by the
	// SQLSTATE that aborted them, "40001" and "40P01" (sqlstore.DB.WriteRetries);
	// nil leaves the counter out.
	StoreRetries func() map[string]uint64
	// SQLiteWAL reports the size of SQLite's WAL, in pages, at the last checkpoint
	// and at most, and the checkpoints run: passive ones, the WAL restarts tried,
	// and those a long reader held back (sqlstore.DB.WALStats); nil (PostgreSQL)
	// leaves them out.
	SQLiteWAL func() (pages, maxPages int64, passive, restarts, restartsBusy uint64)
	// WebhookQueue reports the webhook deliveries pending and when the oldest was
	// made (sqlstore.DB.WebhookQueue); nil leaves the gauges out.
	WebhookQueue func(ctx context.Context) (pending int, oldest time.Time, err error)
}

// Metrics holds one server's registry and its instruments. Its methods are safe
// for concurrent use; the methods of a nil *Metrics do nothing.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	checks     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	idempotent *prometheus.CounterVec // idempotency.go
	webhooks   *prometheus.CounterVec // webhooks.go
}

// New builds the registry: Roster's instruments, the store's gauges (when store is
// not nil), and the Go runtime and process collectors.
func New(store Store, log *slog.Logger, opts Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_http_requests_total",
			Help: "HTTP requests answered, by route pattern (never the raw path) and status class.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roster_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_check_decisions_total",
			Help: "Entitlement checks answered, by reason (ok, no-seat, not-member, ...).",
		}, []string{"reason"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_outbox_deliveries_total",
			Help: "Delivery attempts of this process's outbox worker, by outcome: sent, retry (a temporary failure) or failed (given up).",
		}, []string{"outcome"}),
	}
	build := buildinfo.Read()
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "roster_build_info",
		Help: "Always 1; its labels say which build of Roster this process runs.",
	}, []string{"version", "revision", "goversion"})
	buildInfo.WithLabelValues(build.Version, build.Revision, build.GoVersion).Set(1)
	m.reg.MustRegister(m.requests, m.latency, m.checks, m.deliveries, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registerIdempotency()
	m.registerWebhooks(log, opts)
	if cc := opts.CheckCache; cc != nil {
		for _, result := range []string{"hit", "miss"} {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_check_cache_total",
				Help:        "Entitlement checks by where their facts came from: hit (memory) or miss (the store).",
				ConstLabels: prometheus.Labels{"result": result}},
				func() float64 {
					hits, misses := cc()
					if result == "hit" {
						return float64(hits)
					}
					return float64(misses)
				}))
		}
	}
	if cl := opts.CacheLease; cl != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_cache_lease_held",
			Help: "1 while this process holds the cache lease and answers entitlement checks from memory, else 0."},
			func() float64 {
				if held, _, _, _ := cl(); held {
					return 1
				}
				return 0
			}))
		for i, event := range [...]string{"taken", "revoked", "lapsed"} {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_cache_lease_events_total",
				Help:        "Cache leases this process took, had revoked by another process's write, and let lapse (a renewal failed or came too late).",
				ConstLabels: prometheus.Labels{"event": event}},
				func() float64 {
					_, taken, revoked, lapsed := cl()
					return float64([...]uint64{taken, revoked, lapsed}[i])
				}))
		}
	}
	if sr := opts.StoreRetries; sr != nil {
		for _, code := range []string{"40001", "40P01"} {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_store_retries_total",
				Help:        "Write transactions run again after PostgreSQL aborted them, by SQLSTATE: 40001 (serialization failure) or 40P01 (deadlock).",
				ConstLabels: prometheus.Labels{"code": code}},
				func() float64 { return float64(sr()[code]) }))
		}
	}
	if wal := opts.SQLiteWAL; wal != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_sqlite_wal_pages",
			Help: "Pages in SQLite's write-ahead log at the last checkpoint; it is restarted past 4096 (16 MiB)."},
			func() float64 { p, _, _, _, _ := wal(); return float64(p) }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_sqlite_wal_max_pages",
			Help: "The most pages SQLite's write-ahead log held at a checkpoint since the process started."},
			func() float64 { _, p, _, _, _ := wal(); return float64(p) }))
		for i, mode := range [...]string{"passive", "restart", "restart_busy"} {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_sqlite_checkpoints_total",
				Help: "SQLite WAL checkpoints by mode: passive (they block no one), restart (the WAL had grown past its limit) and " +
					"restart_busy (a restart that a reader held back past its wait; the next one tries again).",
				ConstLabels: prometheus.Labels{"mode": mode}},
				func() float64 {
					_, _, passive, restarts, busy := wal()
					return float64([...]uint64{passive, restarts, busy}[i])
				}))
		}
	}
	if store != nil {
		if log == nil {
			log = slog.Default()
		}
		m.reg.MustRegister(newStoreCollector(store, log, opts))
	}
	for _, reason := range []string{account.ReasonOK, account.ReasonNoSeat, account.ReasonNotMember,
		account.ReasonDeactivated, account.ReasonSubscriptionInactive, account.ReasonAccountDisabled} {
		m.checks.WithLabelValues(reason)
	}
	for _, o := range []string{"sent", "retry", "failed"} {
		m.deliveries.WithLabelValues(o)
	}
	return m
}

// Registry is the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest counts one answered request. route is the ServeMux pattern that
// matched ("GET /api/v1/organizations/{org}/members"), so that the label set stays
// small whatever paths clients send.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	class := statusClass(status)
	m.requests.WithLabelValues(route, class).Inc()
	m.latency.WithLabelValues(route, class).Observe(d.Seconds())
}

// ObserveCheck counts one entitlement decision.
func (m *Metrics) ObserveCheck(reason string) {
	if m == nil {
		return
	}
	m.checks.WithLabelValues(reason).Inc()
}

// ObserveDelivery counts one outbox delivery attempt: "sent", "retry" or "failed".
func (m *Metrics) ObserveDelivery(outcome string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(outcome).Inc()
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// storeCollector reads the outbox and import counts when scraped, at most once per
// StoreEvery, each query bounded by StoreTimeout. A failed read is logged and
// reported as roster_store_scrape_error 1, the gauges left out.
type storeCollector struct {
	store   Store
	log     *slog.Logger
	timeout time.Duration
	every   time.Duration

	outbox  *prometheus.Desc
	imports *prometheus.Desc
	failed  *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	emails  map[account.OutboxState]int
	jobs    map[account.ImportState]int
	lastErr bool
}

func newStoreCollector(store Store, log *slog.Logger, opts Options) *storeCollector {
	c := &storeCollector{store: store, log: log, timeout: opts.StoreTimeout, every: opts.StoreEvery,
		outbox: prometheus.NewDesc("roster_outbox_messages",
			"Messages in the email outbox by state: pending is the queue's depth, failed the messages given up on (roster outbox retry sends one again).",
			[]string{"state"}, nil),
		imports: prometheus.NewDesc("roster_import_jobs",
			"Import jobs of every organization by state (queued, running, done, failed).", []string{"state"}, nil),
		failed: prometheus.NewDesc("roster_store_scrape_error",
			"1 when the store's counts could not be read for this scrape.", nil, nil),
	}
	if c.timeout <= 0 {
		c.timeout = 2 * time.Second
	}
	if c.every <= 0 {
		c.every = 5 * time.Second
	}
	return c
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.outbox
	ch <- c.imports
	ch <- c.failed
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.emails == nil || time.Since(c.at) >= c.every {
		c.refresh()
	}
	failed := 0.0
	if c.lastErr {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, failed)
	if c.emails == nil {
		return
	}
	for state, n := range c.emails {
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(n), string(state))
	}
	for state, n := range c.jobs {
		ch <- prometheus.MustNewConstMetric(c.imports, prometheus.GaugeValue, float64(n), string(state))
	}
}

// refresh reads the counts; on failure it keeps none, so that a scrape never shows
// stale numbers as current.
func (c *storeCollector) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	emails, err := c.store.CountEmails(ctx)
	var jobs map[account.ImportState]int
	if err == nil {
		jobs, err = c.store.CountImports(ctx)
	}
	c.at = time.Now()
	if err != nil {
		c.log.Warn("metrics: reading the outbox and import counts", "err", err)
		c.emails, c.jobs, c.lastErr = nil, nil, true
		return
	}
	c.emails, c.jobs, c.lastErr = emails, jobs, false
}
