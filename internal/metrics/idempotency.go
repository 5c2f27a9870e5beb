package metrics

import "github.com/prometheus/client_golang/prometheus"

// IdempotencyOutcomes are what a request with an Idempotency-Key met: first (it
// ran), replay (the first answer again), reused (422: the key was another
// request's), in_flight (409: the first has not answered), answer_lost (409: the
// first was applied, its answer lost in a crash).
var IdempotencyOutcomes = []string{"first", "replay", "reused", "in_flight", "answer_lost"}

func (m *Metrics) registerIdempotency() {
	m.idempotent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roster_idempotent_requests_total",
		Help: "Requests that named an Idempotency-Key, by outcome: first, replay, reused, in_flight, answer_lost.",
	}, []string{"outcome"})
	for _, o := range IdempotencyOutcomes {
		m.idempotent.WithLabelValues(o)
	}
	m.reg.MustRegister(m.idempotent)
}

// ObserveIdempotency counts one request with an Idempotency-Key by its outcome.
func (m *Metrics) ObserveIdempotency(outcome string) {
	if m == nil {
		return
	}
	m.idempotent.WithLabelValues(outcome).Inc()
}
