package account

// WithoutEvents unmaps the events of actions (eventOf), so that their use cases
// audit without emitting, until restore is called: the baseline of a benchmark of
// the event write. Not for tests that run in parallel.
func WithoutEvents(actions ...AuditAction) (restore func()) {
	saved := map[AuditAction]EventType{}
	for _, a := range actions {
		if t, ok := eventOf[a]; ok {
			saved[a] = t
			delete(eventOf, a)
		}
	}
	return func() {
		for a, t := range saved {
			eventOf[a] = t
		}
	}
}
