package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/importer"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/spreadsheet"
	"roster.dev/roster/internal/sqlstore"
)

const importUsage = `Usage:
  roster import --org ORG [--as EMAIL] [--database URL] FILE
      import FILE (.xlsx or .csv) directly into the store, as the account EMAIL
      (an operator by default)
  roster import --org ORG --server URL [--token TOKEN] FILE
      upload FILE to a running Roster with a session token (env ROSTER_TOKEN) and
      follow the import to its end
`

// progressReport is what the import command shows of a job.
type progressReport struct {
	State                                               string
	Total, Processed, Created, Invited, Updated, Failed int
	Errors                                              []string
}

// importCmd imports a file of people, showing progress: a bar on a terminal, a line
// per step otherwise. It fails (exit 2) when the file is refused or the import fails;
// rejected rows are listed but are not a failure of the command.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), importUsage); fs.PrintDefaults() }
	org := fs.String("org", "", "the organization's slug or id (required)")
	dbURL := config.DatabaseFlag(fs, getenv)
	as := fs.String("as", "", "store mode: the email of the account that imports (default: the first operator)")
	server := fs.String("server", "", "server mode: the base URL of a running Roster, e.g. http://127.0.0.1:8080")
	token := fs.String("token", getenv("ROSTER_TOKEN"), "server mode: a session token (env ROSTER_TOKEN)")
	if err := config.ParseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *org == "" || fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import: want --org ORG and one FILE")
	}
	content, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	show := newProgress(stdout)
	var final progressReport
	if *server != "" {
		if *token == "" {
			return errors.New("import: --server needs --token or ROSTER_TOKEN")
		}
		final, err = importViaServer(ctx, strings.TrimRight(*server, "/"), *token, *org, filepath.Base(fs.Arg(0)), content, show)
	} else {
		final, err = importIntoStore(ctx, *dbURL, *as, *org, filepath.Base(fs.Arg(0)), content, show)
	}
	if err != nil {
		return err
	}
	for _, e := range final.Errors {
		fmt.Fprintln(stdout, "  "+e)
	}
	if final.State != string(account.ImportDone) {
		return fmt.Errorf("import %s", final.State)
	}
	return nil
}

// importIntoStore runs the import in this process, against the store directly.
func importIntoStore(ctx context.Context, dbURL, as, org, name string, content []byte, show func(progressReport)) (progressReport, error) {
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		return progressReport{}, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return progressReport{}, err
	}
	svc := account.NewService(account.Options{Store: db, Renderer: mail.NewNoticeRenderer(),
		Hasher: password.NewHasher(password.DefaultParams, 1, rand.Reader)})
	actor, err := svc.ActorForEmail(ctx, as)
	if err != nil {
		return progressReport{}, err
	}
	p, err := importer.Prepare(content, spreadsheet.Limits{})
	if err != nil {
		return progressReport{}, err
	}
	imp, err := svc.StartImport(ctx, actor, org, account.ImportUpload{FileName: name, Format: p.Format, Content: p.Stored, Total: p.Total})
	if err != nil {
		return progressReport{}, err
	}
	runner := &importer.Runner{Service: svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan error, 1)
	go func() {
		for {
			did, err := runner.RunOnce(ctx)
			if err != nil || !did {
				done <- err
				return
			}
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		got, errs, err := svc.FindImport(ctx, actor, org, imp.ID, 50)
		if err != nil {
			return progressReport{}, err
		}
		rep := reportOf(got, errs)
		show(rep)
		if got.State == account.ImportDone || got.State == account.ImportFailed {
			return rep, nil
		}
		select {
		case err := <-done:
			if err != nil {
				return rep, err
			}
			done = nil // the runner is idle: another process holds the job; keep following it
		case <-tick.C:
		case <-ctx.Done():
			return rep, ctx.Err()
		}
	}
}

func reportOf(imp account.Import, errs []account.ImportError) progressReport {
	r := progressReport{State: string(imp.State), Total: imp.Total, Processed: imp.Processed, Created: imp.Created,
		Invited: imp.Invited, Updated: imp.Updated, Failed: imp.Failed}
	for _, e := range errs {
		r.Errors = append(r.Errors, fmt.Sprintf("row %d: %s: %s", e.Row, e.Field, e.Message))
	}
	if imp.Error != "" {
		r.Errors = append(r.Errors, imp.Error)
	}
	return r
}

// importViaServer uploads the file and follows the job through the API.
func importViaServer(ctx context.Context, base, token, org, name string, content []byte, show func(progressReport)) (progressReport, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		return progressReport{}, err
	}
	fw.Write(content)
	mw.Close()
	var job struct{ ID string }
	if err := apiCall(ctx, http.MethodPost, base+"/api/v1/organizations/"+org+"/imports", token, mw.FormDataContentType(), &body, &job); err != nil {
		return progressReport{}, err
	}
	for {
		var imp struct {
			State                                               string
			Total, Processed, Created, Invited, Updated, Failed int
			Error                                               *string
			Errors                                              []struct {
				Row            int
				Field, Message string
			}
		}
		if err := apiCall(ctx, http.MethodGet, base+"/api/v1/organizations/"+org+"/imports/"+job.ID, token, "", nil, &imp); err != nil {
			return progressReport{}, err
		}
		rep := progressReport{State: imp.State, Total: imp.Total, Processed: imp.Processed, Created: imp.Created,
			Invited: imp.Invited, Updated: imp.Updated, Failed: imp.Failed}
		for i, e := range imp.Errors {
			if i == 50 {
				break
			}
			rep.Errors = append(rep.Errors, fmt.Sprintf("row %d: %s: %s", e.Row, e.Field, e.Message))
		}
		if imp.Error != nil {
			rep.Errors = append(rep.Errors, *imp.Error)
		}
		show(rep)
		if imp.State == string(account.ImportDone) || imp.State == string(account.ImportFailed) {
			return rep, nil
		}
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			return rep, ctx.Err()
		}
	}
}

// apiCall sends one request and decodes the JSON answer into out; a problem answer
// is an error with its detail.
func apiCall(ctx context.Context, method, url, token, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 10<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var p struct {
			Detail string
			Errors []struct{ Field, Message string }
		}
		_ = json.Unmarshal(raw, &p)
		msg := p.Detail
		for _, e := range p.Errors {
			msg += "; " + e.Field + ": " + e.Message
		}
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, msg)
	}
	return json.Unmarshal(raw, out)
}

// newProgress returns how to show a report: a redrawn bar on a terminal, a line per
// change otherwise.
func newProgress(w io.Writer) func(progressReport) {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			tty = fi.Mode()&os.ModeCharDevice != 0
		}
	}
	last := -1
	return func(r progressReport) {
		finished := r.State == string(account.ImportDone) || r.State == string(account.ImportFailed)
		if r.Processed == last && !finished {
			return
		}
		last = r.Processed
		counts := fmt.Sprintf("%d/%d rows (created %d, invited %d, updated %d, failed %d)",
			r.Processed, r.Total, r.Created, r.Invited, r.Updated, r.Failed)
		if !tty {
			fmt.Fprintf(w, "%s %s\n", r.State, counts)
			return
		}
		const width = 30
		filled := width
		if r.Total > 0 {
			filled = width * r.Processed / r.Total
		}
		fmt.Fprintf(w, "\r[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), 100*filled/width, counts)
		if finished {
			fmt.Fprintf(w, "\n%s\n", r.State)
		}
	}
}
