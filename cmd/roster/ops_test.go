package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/testtime"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServeDrains: roster serve serves /metrics and /readyz; on shutdown /readyz
// answers 503 for --shutdown-delay while the API still answers, then it stops.
func TestServeDrains(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	env := map[string]string{"ROSTER_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "roster.db"),
		"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--shutdown-delay", "1500ms"},
			func(k string) string { return env[k] }, io.Discard, stderr)
	}()
	testtime.WaitFor(t, 30*time.Second, "ready (/readyz 200)", func() bool { status, _ := get(t, base+"/readyz"); return status == 200 })
	postJSON(t, base+"/api/v1/auth/login", "", map[string]any{"email": "op@roster.test", "password": "correct horse battery"})
	status, body := get(t, base+"/metrics")
	if status != 200 || !strings.Contains(body, `roster_http_requests_total{route="POST /api/v1/auth/login",status="2xx"} 1`) ||
		!strings.Contains(body, "roster_outbox_messages{") || !strings.Contains(body, "process_resident_memory_bytes") {
		t.Fatalf("/metrics = %d\n%s", status, body)
	}

	cancel()
	stopped := time.Now()
	for {
		status, _ := get(t, base+"/readyz")
		if status == 503 {
			break
		}
		if time.Since(stopped) > time.Second {
			t.Fatalf("/readyz = %d after the shutdown began, want 503", status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status, _ := get(t, base+"/healthz"); status != 200 {
		t.Errorf("/healthz = %d while draining", status)
	}
	if status, _ := postJSON(t, base+"/api/v1/auth/login", "", map[string]any{"email": "op@roster.test", "password": "correct horse battery"}); status != 200 {
		t.Errorf("login = %d while draining", status)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if d := time.Since(stopped); d < 1500*time.Millisecond {
		t.Errorf("stopped %v after the signal, before --shutdown-delay", d)
	}
	if status, _ := get(t, base+"/healthz"); status != 0 {
		t.Errorf("still answering after it stopped: %d", status)
	}
}
