package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/importer"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/spreadsheet"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// BenchmarkImport imports ROSTER_BENCH_IMPORT_ROWS people (default 2,000) from an
// .xlsx file through the import runner, every row a new active member (send_invite:
// no) in a team, and then inserts the same people with plain multi-row INSERTs into
// a second organization: the baseline. It reports both rates and the process's peak
// resident memory during the import (Linux VmHWM, reset before it starts).
//
//	ROSTER_BENCH_IMPORT_ROWS=100000 go test -run '^$' -bench Import -benchtime 1x ./internal/sqlstore/
func BenchmarkImport(b *testing.B) {
	n := 2000
	if v := os.Getenv("ROSTER_BENCH_IMPORT_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("ROSTER_BENCH_IMPORT_ROWS=%q", v)
		}
	}
	file := benchImportFile(b, n)
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			for range b.N {
				benchImportOnce(b, engine, file, n, 0)
			}
		})
	}
}

// BenchmarkImportSubscribed is BenchmarkImport into an organization that holds a
// subscription of each of ROSTER_BENCH_IMPORT_APPS applications (default 2): every
// row then writes its member.added change event, for those applications, in the
// batch's transaction. The baseline is the same plain INSERTs (no events).
//
//	ROSTER_BENCH_IMPORT_ROWS=20000 go test -run '^$' -bench ImportSubscribed -benchtime 1x ./internal/sqlstore/
func BenchmarkImportSubscribed(b *testing.B) {
	n, apps := 2000, 2
	for name, p := range map[string]*int{"ROSTER_BENCH_IMPORT_ROWS": &n, "ROSTER_BENCH_IMPORT_APPS": &apps} {
		if v := os.Getenv(name); v != "" {
			var err error
			if *p, err = strconv.Atoi(v); err != nil || *p < 1 {
				b.Fatalf("%s=%q", name, v)
			}
		}
	}
	file := benchImportFile(b, n)
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			for range b.N {
				benchImportOnce(b, engine, file, n, apps)
			}
		})
	}
}

func benchImportFile(b *testing.B, n int) []byte {
	var buf bytes.Buffer
	w, err := spreadsheet.NewXLSXWriter(&buf, "People", account.ImportColumns)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := w.Write([]string{fmt.Sprintf("person%06d@import.test", i), "First" + strconv.Itoa(i), "Last" + strconv.Itoa(i),
			"", "", "member", "Sales", "", "no"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchImportOnce(b *testing.B, engine sqlstore.Engine, file []byte, n, apps int) {
	ctx := context.Background()
	db := storetest.Open(b, engine)
	svc := account.NewService(account.Options{Store: db, Hasher: password.NewHasher(password.TestParams, 2, rand.Reader)})
	if _, _, err := svc.Bootstrap(ctx, "op@import.test", "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	login, err := svc.Login(ctx, "op@import.test", "correct horse battery", "", "")
	if err != nil {
		b.Fatal(err)
	}
	op := account.Actor{Account: login.Account, SessionID: login.Session.ID}
	orgs := make([]account.Organization, 2)
	for i := range orgs {
		if orgs[i], err = svc.CreateOrganization(ctx, op, account.CreateOrganizationInput{Name: "Org " + strconv.Itoa(i), Kind: account.KindOrganization}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := svc.CreateTeam(ctx, op, orgs[0].ID, "Sales"); err != nil {
		b.Fatal(err)
	}
	for i := range apps {
		app, err := svc.CreateApplication(ctx, op, account.ApplicationInput{Key: "app" + strconv.Itoa(i), Name: "App " + strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		seats := 10
		now := time.Now()
		if _, _, err := svc.CreateSubscription(ctx, op, orgs[0].ID, account.SubscriptionInput{Application: app.ID, Seats: &seats,
			StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(1, 0, 0)}); err != nil {
			b.Fatal(err)
		}
	}

	b.ResetTimer()
	resetPeakRSS()
	start := time.Now()
	p, err := importer.Prepare(file, spreadsheet.Limits{})
	if err != nil || p.Total != n {
		b.Fatalf("prepare: %d rows, %v", p.Total, err)
	}
	imp, err := svc.StartImport(ctx, op, orgs[0].ID, account.ImportUpload{FileName: "people.xlsx", Format: p.Format, Content: p.Stored, Total: p.Total})
	if err != nil {
		b.Fatal(err)
	}
	r := &importer.Runner{Service: svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := r.RunOnce(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	peak := peakRSS()
	b.StopTimer()
	got, _, err := svc.FindImport(ctx, op, orgs[0].ID, imp.ID, 10)
	if err != nil || got.State != account.ImportDone || got.Created != n {
		b.Fatalf("import = %+v, %v", got, err)
	}
	if apps > 0 { // every row's member.added for each application, beside each one's subscription.created
		if got := sqlstore.CountRows(ctx, b, db, "event_feed"); got != n*apps+apps {
			b.Fatalf("%d feed rows, want %d", got, n*apps+apps)
		}
	}

	people := make([][3]string, n)
	for i := range people {
		people[i] = [3]string{fmt.Sprintf("raw%06d@import.test", i), "First" + strconv.Itoa(i), "Last" + strconv.Itoa(i)}
	}
	rawStart := time.Now()
	if err := sqlstore.RawInsertPeople(ctx, db, orgs[1].ID, people); err != nil {
		b.Fatal(err)
	}
	raw := time.Since(rawStart)

	importRate, rawRate := float64(n)/took.Seconds(), float64(n)/raw.Seconds()
	b.ReportMetric(importRate, "import-rows/s")
	b.ReportMetric(rawRate, "raw-rows/s")
	b.ReportMetric(importRate/rawRate*100, "%-of-raw")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
}

// resetPeakRSS resets the process's peak resident set size (Linux; a no-op elsewhere).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident set size in bytes since the last reset.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
