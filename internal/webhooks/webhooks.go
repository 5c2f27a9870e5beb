// Package webhooks delivers change events to the applications' webhook endpoints,
// as Standard Webhooks (standardwebhooks.com) says: a worker, modelled on the email
// outbox's, claims due deliveries, POSTs each event signed with every live secret of
// its endpoint, and records the attempt. Delivery is at least once: an attempt whose
// outcome is lost is made again once its claim lapses, with the same webhook-id.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"roster.dev/roster/internal/account"
)

// Store is what the worker needs of sqlstore.DB.
type Store interface {
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, n int, lease time.Duration, skip []string) ([]account.DeliveryJob, error)
	CompleteDelivery(ctx context.Context, owner, id string, now time.Time, o account.DeliveryOutcome) (failingSince time.Time, err error)
	ReleaseDeliveryClaims(ctx context.Context, owner string, ids []string) error
}

// Defaults of the Worker.
const (
	DefaultPoll        = 2 * time.Second
	DefaultTimeout     = 15 * time.Second
	DefaultConcurrency = 16
	// MaxBody bounds a delivery's body (256 KB).
	MaxBody = 256 << 10
	// DefaultLease is how long a claim lasts: longer than one attempt's timeout.
	// Past it another worker (another process, if this one died mid-attempt)
	// makes the attempt again, with the same webhook-id.
	DefaultLease = 2 * time.Minute
)

// Schedule is Standard Webhooks' retry schedule: the pause after each failed
// attempt; after the last, the delivery has failed (about three days in all).
var Schedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Worker delivers. Its zero value but Store is usable.
type Worker struct {
	Store Store
	Log   *slog.Logger
	Now   func() time.Time
	// AllowPrivate lets endpoints be http, and private, loopback or link-local
	// addresses (tests, local receivers); otherwise the address actually dialled is
	// checked, whatever the URL's host resolved to.
	AllowPrivate bool
	Poll         time.Duration
	Timeout      time.Duration
	// Lease is how long a claimed delivery stays this worker's (DefaultLease
	// when zero); it should exceed Timeout.
	Lease       time.Duration
	Concurrency int
	// Observe, when set, counts each attempt's outcome: "delivered", "retry",
	// "failed" or "gone".
	Observe func(outcome string)
	// OnFailing is told of an endpoint failing since account.FailingLimit or more
	// (account.Service.DisableFailingWebhook disables it and emails the operators).
	OnFailing func(ctx context.Context, applicationID, webhookID string, since time.Time) error

	once     sync.Once
	owner    string
	client   *http.Client
	wake     chan struct{}
	mu       sync.Mutex
	inFlight map[string]string // endpoint id → delivery id being sent
	sem      chan struct{}
	wg       sync.WaitGroup
}

func (w *Worker) init() {
	w.once.Do(func() {
		var b [6]byte
		_, _ = io.ReadFull(cryptorand.Reader, b[:])
		host, _ := os.Hostname()
		w.owner = host + "/" + hex.EncodeToString(b[:])
		if w.Timeout <= 0 {
			w.Timeout = DefaultTimeout
		}
		if w.Lease <= 0 {
			w.Lease = DefaultLease
		}
		if w.Poll <= 0 {
			w.Poll = DefaultPoll
		}
		if w.Concurrency <= 0 {
			w.Concurrency = DefaultConcurrency
		}
		if w.Now == nil {
			w.Now = time.Now
		}
		if w.Log == nil {
			w.Log = slog.New(slog.DiscardHandler)
		}
		w.client = NewClient(w.Timeout, w.AllowPrivate)
		w.wake = make(chan struct{}, 1)
		w.inFlight = map[string]string{}
		w.sem = make(chan struct{}, w.Concurrency)
	})
}

// Wake asks the worker to look for due deliveries now. It never blocks.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts in flight (each bounded
// by the timeout) and returns.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	defer w.wg.Wait()
	for {
		if _, err := w.Dispatch(ctx); err != nil && ctx.Err() == nil {
			w.Log.Error("claim webhook deliveries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// Dispatch claims what is due, for endpoints not being sent to, and starts one
// attempt per endpoint (without waiting for it); it reports how many it started.
func (w *Worker) Dispatch(ctx context.Context) (int, error) {
	w.init()
	free := cap(w.sem) - len(w.sem)
	if free <= 0 {
		return 0, nil
	}
	w.mu.Lock()
	skip := make([]string, 0, len(w.inFlight))
	for id := range w.inFlight {
		skip = append(skip, id)
	}
	w.mu.Unlock()
	jobs, err := w.Store.ClaimDeliveries(ctx, w.owner, w.Now(), free, w.Lease, skip)
	if err != nil {
		return 0, err
	}
	started := 0
	var extra []string
	for _, j := range jobs {
		w.mu.Lock()
		_, busy := w.inFlight[j.Webhook.ID]
		if !busy {
			w.inFlight[j.Webhook.ID] = j.Delivery.ID
		}
		w.mu.Unlock()
		if busy { // a second one of the same endpoint: it waits for the next claim
			extra = append(extra, j.Delivery.ID)
			continue
		}
		w.sem <- struct{}{}
		w.wg.Add(1)
		started++
		go func() {
			defer w.wg.Done()
			defer func() { <-w.sem }()
			w.attempt(context.WithoutCancel(ctx), j)
			w.mu.Lock()
			delete(w.inFlight, j.Webhook.ID)
			w.mu.Unlock()
			w.Wake()
		}()
	}
	if err := w.Store.ReleaseDeliveryClaims(ctx, w.owner, extra); err != nil {
		return started, err
	}
	return started, nil
}

// Idle reports whether no attempt is in flight (tests wait for it with Drain).
func (w *Worker) Idle() bool {
	w.init()
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.inFlight) == 0
}

// Drain dispatches and waits until nothing due is left (for tests and tools).
func (w *Worker) Drain(ctx context.Context) error {
	w.init()
	for {
		n, err := w.Dispatch(ctx)
		if err != nil {
			return err
		}
		w.wg.Wait()
		if n == 0 {
			return nil
		}
	}
}

// attempt makes one attempt and records it.
func (w *Worker) attempt(ctx context.Context, j account.DeliveryJob) {
	now := w.Now()
	o := w.send(ctx, j, now)
	outcome := "delivered"
	switch {
	case o.Gone:
		outcome = "gone"
	case !o.Delivered && j.Delivery.Attempts > len(Schedule):
		outcome = "failed"
	case !o.Delivered:
		outcome = "retry"
		o.NextAt = w.Now().Add(jitter(Schedule[j.Delivery.Attempts-1]))
	}
	if w.Observe != nil {
		w.Observe(outcome)
	}
	since, err := w.Store.CompleteDelivery(ctx, w.owner, j.Delivery.ID, w.Now(), o)
	if err != nil {
		w.Log.Error("record a webhook delivery", "delivery", j.Delivery.ID, "err", err)
		return
	}
	if !since.IsZero() && w.Now().Sub(since) >= account.FailingLimit && w.OnFailing != nil {
		if err := w.OnFailing(ctx, j.Webhook.ApplicationID, j.Webhook.ID, since); err != nil {
			w.Log.Error("disable a failing webhook endpoint", "webhook", j.Webhook.ID, "err", err)
		} else {
			w.Log.Warn("disabled a webhook endpoint failing for 5 days", "webhook", j.Webhook.ID, "url", j.Webhook.URL, "failing_since", since)
		}
	}
}

// jitter spreads a pause by ±10%, so that the retries of many failed deliveries do
// not come back together.
func jitter(d time.Duration) time.Duration {
	span := int64(d / 5)
	if span <= 0 {
		return d
	}
	return d - d/10 + time.Duration(rand.Int64N(span+1))
}

// Body is what is POSTed: the event's type, time and data.
func Body(e account.Event) ([]byte, error) {
	return json.Marshal(struct {
		Type      account.EventType `json:"type"`
		Timestamp time.Time         `json:"timestamp"`
		Data      json.RawMessage   `json:"data"`
	}{e.Type, e.CreatedAt.UTC(), e.Data})
}

// Sign is the webhook-signature header of a body for each secret (whsec_ and the
// base64 key): "v1,<base64 HMAC-SHA256 of id.timestamp.body>", space-separated.
func Sign(secrets []string, id string, at time.Time, body []byte) (string, error) {
	msg := id + "." + strconv.FormatInt(at.Unix(), 10) + "."
	var sigs []string
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			return "", fmt.Errorf("a webhook secret is not base64: %w", err)
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}

func (w *Worker) send(ctx context.Context, j account.DeliveryJob, now time.Time) account.DeliveryOutcome {
	body, err := Body(j.Event)
	if err != nil {
		return account.DeliveryOutcome{Error: err.Error()}
	}
	if len(body) > MaxBody {
		return account.DeliveryOutcome{Error: fmt.Sprintf("the event's body is %d bytes, above %d: not sent", len(body), MaxBody)}
	}
	u, err := url.Parse(j.Webhook.URL)
	if err != nil || u.Scheme != "https" && !(u.Scheme == "http" && w.AllowPrivate) {
		return account.DeliveryOutcome{Error: "the endpoint's URL is not https", NextAt: now.Add(jitter(retryAfter(j)))}
	}
	sig, err := Sign(j.Webhook.Secrets(now), j.Event.ID, now, body)
	if err != nil {
		return account.DeliveryOutcome{Error: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return account.DeliveryOutcome{Error: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Roster-Webhooks/1")
	req.Header.Set("webhook-id", j.Event.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := w.client.Do(req)
	o := account.DeliveryOutcome{DurationMS: int(time.Since(start).Milliseconds())}
	if err != nil {
		o.Error = clip(err.Error())
		return o
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	o.StatusCode = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		o.Delivered = true
	case resp.StatusCode == http.StatusGone:
		o.Gone, o.Error = true, "the endpoint answered 410 Gone: disabled"
	default:
		o.Error = "the endpoint answered " + strconv.Itoa(resp.StatusCode)
	}
	return o
}

func retryAfter(j account.DeliveryJob) time.Duration {
	return Schedule[min(max(j.Delivery.Attempts-1, 0), len(Schedule)-1)]
}

func clip(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}

// ErrNotPublic is why a dial to a private, loopback or link-local address failed.
var ErrNotPublic = errors.New("refused: the address is not public (private, loopback or link-local)")

// NewClient is the HTTP client of deliveries: timeout bounds each attempt, no
// redirect is followed (a 3xx is a failed attempt), no proxy is used, and unless
// allowPrivate every address actually dialled must be public — checked in the
// dialer's Control, after resolution, so no DNS answer can point it inside.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !account.PublicAddr(ap.Addr()) {
				return fmt.Errorf("dial %s: %w", address, ErrNotPublic)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
