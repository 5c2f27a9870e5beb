package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// crashRows is the size of the import the crash test interrupts.
const crashRows = 20_000

// crashFile is a CSV of crashRows people: most invited, some created at once, every
// tenth in a team, a few with errors.
func crashFile() []byte {
	var b strings.Builder
	b.WriteString("email,first_name,last_name,role,teams,send_invite\n")
	for i := range crashRows {
		invite, team, role := "yes", "", "member"
		if i%3 == 0 {
			invite = "no"
		}
		if i%10 == 0 {
			team = "Sales"
		}
		if i%7 == 0 {
			role = "admin"
		}
		email := fmt.Sprintf("p%05d@crash.test", i)
		if i%997 == 0 {
			email = "broken-" + email[:6] // not an address: a rejected row
		}
		fmt.Fprintf(&b, "%s,First%d,Last%d,%s,%s,%s\n", email, i, i, role, team, invite)
	}
	return []byte(b.String())
}

// importer drives one Roster server for the crash test.
type importClient struct {
	client
}

func (c importClient) upload(org string, content []byte) map[string]any {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "people.csv")
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+"/api/v1/organizations/"+org+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if res.StatusCode != 202 {
		c.t.Fatalf("upload = %d %s", res.StatusCode, raw)
	}
	return out
}

// waitImport polls an import until stop says so or it is finished.
func (c importClient) waitImport(org, id string, stop func(map[string]any) bool) map[string]any {
	c.t.Helper()
	var imp map[string]any
	testtime.WaitFor(c.t, 10*time.Minute, "import "+id+" there", func() bool {
		var status int
		status, imp = c.do("GET", "/api/v1/organizations/"+org+"/imports/"+id, nil)
		return status == 200 && (stop(imp) || imp["state"] == "done" || imp["state"] == "failed")
	})
	return imp
}

// outcome is what an import leaves behind, to compare two runs.
type outcome struct {
	Counters map[string]any
	Members  []string // "email state role teams", sorted
	Emails   int      // invitation emails in the outbox
	Audits   int      // member.* audit events
}

func (c importClient) outcome(org string, imp map[string]any) outcome {
	c.t.Helper()
	o := outcome{Counters: map[string]any{}}
	for _, k := range []string{"state", "total", "processed", "created", "invited", "updated", "failed"} {
		o.Counters[k] = imp[k]
	}
	cursor := ""
	for {
		page := c.must(200, "GET", "/api/v1/organizations/"+org+"/members?limit=500&cursor="+cursor, nil)
		for _, it := range page["items"].([]any) {
			m := it.(map[string]any)
			o.Members = append(o.Members, fmt.Sprintf("%s %s %s %v", m["account"].(map[string]any)["email"], m["state"], m["role"], m["teams"]))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	slices.Sort(o.Members)
	cursor = ""
	for {
		page := c.must(200, "GET", "/api/v1/organizations/"+org+"/audit?limit=500&cursor="+cursor, nil)
		for _, it := range page["items"].([]any) {
			if strings.HasPrefix(it.(map[string]any)["action"].(string), "member.") {
				o.Audits++
			}
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	return o
}

// TestImportSurvivesKill: SIGKILL a Roster process in the middle of a 20,000-row
// import, start another on the same store, and the import completes with exactly
// the state an uninterrupted run leaves: no row applied twice, none lost, one
// invitation email per invitee.
func TestImportSurvivesKill(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("the crash test imports 20,000 rows twice; it runs without -race and -short")
	}
	file := crashFile()
	stores := map[string]func() string{"sqlite": func() string { return "sqlite://" + filepath.Join(t.TempDir(), "roster.db") }}
	if os.Getenv(storetest.PostgresURLEnv) != "" {
		stores["postgres"] = func() string { return storetest.PostgresURL(t) }
	}
	for engine, newStore := range stores {
		t.Run(engine, func(t *testing.T) {
			run := func(kill bool) (outcome, int) {
				env := map[string]string{"ROSTER_DATABASE_URL": newStore(), "ROSTER_BOOTSTRAP_EMAIL": "op@roster.test",
					"ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery", "ROSTER_IMPORT_LEASE": "3s"}
				base, cmd, logs := spawn(t, env)
				login := client{t: t, base: base}.must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "op@roster.test", "password": "correct horse battery"})
				c := importClient{client{t: t, base: base, token: login["token"].(string)}}
				c.must(201, "POST", "/api/v1/organizations", map[string]any{"name": "Crash", "kind": "organization"})
				c.must(201, "POST", "/api/v1/organizations/crash/teams", map[string]any{"name": "Sales"})
				job := c.upload("crash", file)
				id := job["id"].(string)
				killedAt := 0
				if kill {
					imp := c.waitImport("crash", id, func(imp map[string]any) bool { return imp["processed"].(float64) >= crashRows/4 })
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					_ = cmd.Wait()
					killedAt = int(imp["processed"].(float64))
					if imp["state"] == "done" {
						t.Fatalf("the import finished before the kill; nothing was tested\n%s", logs)
					}
					base, cmd, logs = spawn(t, env) // the same store: the import resumes
					c.base = base
				}
				imp := c.waitImport("crash", id, func(map[string]any) bool { return false })
				o := c.outcome("crash", imp)
				o.Emails = countInvitations(t, env["ROSTER_DATABASE_URL"])
				_ = cmd.Process.Signal(os.Interrupt)
				if err := cmd.Wait(); err != nil {
					t.Errorf("roster serve exited with %v\n%s", err, logs)
				}
				return o, killedAt
			}
			want, _ := run(false)
			got, killedAt := run(true)
			t.Logf("killed after %d of %d rows; %v", killedAt, crashRows, got.Counters)
			if want.Counters["state"] != "done" || want.Counters["processed"] != float64(crashRows) {
				t.Fatalf("the uninterrupted run = %v", want.Counters)
			}
			for k, v := range want.Counters {
				if got.Counters[k] != v {
					t.Errorf("%s = %v after the kill, %v uninterrupted", k, got.Counters[k], v)
				}
			}
			if !slices.Equal(got.Members, want.Members) {
				t.Errorf("members differ: %d after the kill, %d uninterrupted", len(got.Members), len(want.Members))
			}
			if got.Emails != want.Emails || got.Audits != want.Audits {
				t.Errorf("invitation emails %d, member audit events %d after the kill; %d and %d uninterrupted",
					got.Emails, got.Audits, want.Emails, want.Audits)
			}
		})
	}
}

// countInvitations counts the invitation emails in the outbox of the store.
func countInvitations(t *testing.T, dbURL string) int {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msgs, err := db.FindEmails(ctx, "", 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == "invitation" {
			n++
		}
	}
	return n
}
