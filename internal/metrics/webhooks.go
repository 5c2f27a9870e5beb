package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// registerWebhooks adds the webhook deliveries' counter and, with opts.WebhookQueue,
// the gauges of their queue read at scrape time.
func (m *Metrics) registerWebhooks(log *slog.Logger, opts Options) {
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roster_webhook_deliveries_total",
		Help: "Webhook delivery attempts of this process's worker, by outcome: delivered, retry (a failed attempt to be made again), failed (given up) or gone (410: the endpoint is disabled).",
	}, []string{"outcome"})
	m.reg.MustRegister(m.webhooks)
	q := opts.WebhookQueue
	if q == nil {
		return
	}
	timeout := opts.StoreTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	read := func() (int, time.Time, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		n, oldest, err := q(ctx)
		if err != nil {
			log.Warn("metrics: reading the webhook queue", "err", err)
			return 0, time.Time{}, false
		}
		return n, oldest, true
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_webhook_queue_depth",
		Help: "Webhook deliveries pending (due now or waiting for a retry), of every process."},
		func() float64 { n, _, _ := read(); return float64(n) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_webhook_oldest_pending_seconds",
		Help: "Age of the oldest undelivered webhook delivery, in seconds (0 when none waits)."},
		func() float64 {
			_, oldest, ok := read()
			if !ok || oldest.IsZero() {
				return 0
			}
			return time.Since(oldest).Seconds()
		}))
}

// ObserveWebhook counts one webhook delivery attempt by outcome.
func (m *Metrics) ObserveWebhook(outcome string) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(outcome).Inc()
}
