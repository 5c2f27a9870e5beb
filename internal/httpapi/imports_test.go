package httpapi_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/importer"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// xlsxFile builds a workbook whose first sheet holds rows.
func xlsxFile(t testing.TB, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellStr("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readXLSX returns the cells of a workbook's first sheet.
func readXLSX(t testing.TB, raw string) (sheets []string, rows [][]string) {
	t.Helper()
	f, err := excelize.OpenReader(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	sheets = f.GetSheetList()
	rows, err = f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	return sheets, rows
}

// runImports applies every queued import, as serve's runner does.
func (e *env) runImports() {
	e.t.Helper()
	r := &importer.Runner{Service: e.svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Batch: 3}
	for {
		did, err := r.RunOnce(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if !did {
			return
		}
	}
}

// TestImportFlow: the template, an upload with good and bad rows, the job's
// progress and per-row errors with spreadsheet row numbers, the error report, and a
// second upload of the same file that changes nothing.
func TestImportFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.subscribe("acme", "studio", 2, 365*24*time.Hour)
		e.must(201, e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"})
		e.member(e.op, "acme", "ada@acme.test", "admin")
		e.member(e.op, "acme", "old@acme.test", "member")
		ada := e.login("ada@acme.test", pw)

		tpl := e.call(ada, "GET", "/api/v1/organizations/acme/imports/template.xlsx", nil)
		if tpl.Status != 200 || !strings.Contains(tpl.Header.Get("Content-Type"), "spreadsheetml") {
			t.Fatalf("template = %d %s", tpl.Status, tpl.Header)
		}
		sheets, rows := readXLSX(t, tpl.Raw)
		if !slices.Contains(sheets, "Instructions") || !slices.Equal(rows[0][:3], []string{"email", "first_name", "last_name"}) || len(rows) != 2 {
			t.Errorf("template sheets %v, rows %v", sheets, rows)
		}

		file := xlsxFile(t, [][]string{
			{"Email", "First Name", "last_name", "role", "teams", "applications", "send_invite", "notes"},
			{"new1@acme.test", "New", "One", "member", "sales", "studio", "yes", "invited"}, // row 2
			{"new2@acme.test", "New", "Two", "Admin", "", "", "no", "created"},
			{"not-an-email", "Bad", "Email", "", "", "", "", ""},
			{"new3@acme.test", "New", "Three", "", "Nope", "", "", "unknown team"},
			{}, // row 6: empty, skipped
			{"NEW1@acme.test", "Dup", "Licate", "", "", "", "", "duplicate of row 2"}, // row 7
			{"old@acme.test", "", "", "admin", "Sales", "", "", "updated"},
			{"new4@acme.test", "New", "Four", "", "", "studio", "no", "seat 2 of 2"},
			{"new5@acme.test", "New", "Five", "", "", "studio", "no", "no seat left"},
			{"new6@acme.test", "", "", "", "", "", "no", "names missing"},
			{"new7@acme.test", "New", "Seven", "owner", "", "", "", "above the caller"},
			{"new8@acme.test", "New", "Eight", "member", "", "", "maybe", "bad send_invite"},
		})
		job := e.must(202, ada, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.xlsx", content: file})
		if job["state"] != "queued" || job["total"] != 11.0 || job["format"] != "xlsx" {
			t.Fatalf("job = %v", job)
		}
		e.runImports()
		got := e.must(200, ada, "GET", "/api/v1/organizations/acme/imports/"+job["id"].(string), nil)
		want := map[string]float64{"total": 11, "processed": 11, "created": 2, "invited": 1, "updated": 1, "failed": 7}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if got["state"] != "done" || got["finished_at"] == nil {
			t.Errorf("job = %v", got)
		}
		var errs []string
		for _, x := range got["errors"].([]any) {
			m := x.(map[string]any)
			errs = append(errs, fmt.Sprintf("%v %v", m["row"], m["field"]))
		}
		wantErrs := []string{"4 email", "5 teams", "7 email", "10 applications", "11 first_name", "11 last_name", "12 role", "13 send_invite"}
		if !slices.Equal(errs, wantErrs) {
			t.Errorf("errors = %v, want %v\n%v", errs, wantErrs, got["errors"])
		}

		members := e.must(200, ada, "GET", "/api/v1/organizations/acme/members?limit=100", nil)
		states := map[string]string{}
		for _, it := range members["items"].([]any) {
			m := it.(map[string]any)
			states[m["account"].(map[string]any)["email"].(string)] = m["state"].(string) + "/" + m["role"].(string)
		}
		for email, st := range map[string]string{"new1@acme.test": "invited/member", "new2@acme.test": "active/admin",
			"old@acme.test": "active/admin", "new4@acme.test": "active/member"} {
			if states[email] != st {
				t.Errorf("%s = %q, want %q", email, states[email], st)
			}
		}
		if _, ok := states["new5@acme.test"]; ok {
			t.Error("a row beyond the quota was applied")
		}
		if e.count("invitation", "new1@acme.test") != 1 || e.count("role.changed", "old@acme.test")+e.count("admin.granted", "old@acme.test") != 1 {
			t.Errorf("outbox = %v", e.outbox())
		}

		rep := e.call(ada, "GET", "/api/v1/organizations/acme/imports/"+job["id"].(string)+"/errors.xlsx", nil)
		if rep.Status != 200 {
			t.Fatalf("report = %d %s", rep.Status, rep.Raw)
		}
		_, rrows := readXLSX(t, rep.Raw)
		if len(rrows) != 8 || rrows[0][len(rrows[0])-1] != "error" || rrows[1][0] != "not-an-email" ||
			!strings.Contains(rrows[1][len(rrows[0])-1], "row 4: email") {
			t.Errorf("report rows = %q", rrows)
		}

		if l := e.must(200, ada, "GET", "/api/v1/organizations/acme/imports", nil); l["total"] != 1.0 || l["items"].([]any)[0].(map[string]any)["id"] != job["id"] {
			t.Errorf("imports = %v", l)
		}
		// The same file again changes nothing.
		before := e.must(200, e.op, "GET", "/api/v1/organizations/acme/audit?limit=500", nil)["total"]
		mailBefore := len(e.outbox())
		job2 := e.must(202, ada, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.xlsx", content: file})
		e.runImports()
		got2 := e.must(200, ada, "GET", "/api/v1/organizations/acme/imports/"+job2["id"].(string), nil)
		if got2["created"] != 0.0 || got2["invited"] != 0.0 || got2["updated"] != 0.0 {
			t.Errorf("second run = %v", got2)
		}
		after := e.must(200, e.op, "GET", "/api/v1/organizations/acme/audit?limit=500", nil)["total"]
		if after.(float64) != before.(float64)+2 { // import.started and import.finished only
			t.Errorf("audit grew from %v to %v", before, after)
		}
		if len(e.outbox()) != mailBefore {
			t.Errorf("the second run sent email: %v", e.outbox()[mailBefore:])
		}
	})
}

// TestImportRefusals: files that cannot be imported are refused before anything is
// applied.
func TestImportRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withDeps(func(d *httpapi.Deps) { d.MaxUploadBytes = 64 << 10 }))
		e.org("acme", "")
		path := "/api/v1/organizations/acme/imports"
		problem(t, e.call(e.op, "POST", path, upload{name: "x.xlsx", content: []byte("PK\x03\x04 not really a zip")}), 422, "validation", "file")
		problem(t, e.call(e.op, "POST", path, upload{name: "x.bin", content: []byte{0, 1, 2, 3, 0xff, 0xfe}}), 422, "validation", "file")
		problem(t, e.call(e.op, "POST", path, upload{name: "x.csv", content: []byte("email,Email\na@x.test,b@x.test\n")}), 422, "validation", "file")
		problem(t, e.call(e.op, "POST", path, upload{name: "x.csv", content: []byte("name\nAda\n")}), 422, "validation", "file")
		problem(t, e.call(e.op, "POST", path, upload{name: "x.csv", content: []byte{}}), 422, "validation", "file")
		big := bytes.Repeat([]byte("a@x.test\n"), 10_000)
		problem(t, e.call(e.op, "POST", path, upload{name: "big.csv", content: append([]byte("email\n"), big...)}), 413, "too-large")
		problem(t, e.call(e.op, "POST", path, map[string]any{"file": "x"}), 415, "unsupported-media-type") // not a multipart form
		if got := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members", nil)["total"]; got != 0.0 {
			t.Errorf("a refused file added %v members", got)
		}
		// A CSV the way Excel writes it in many locales: ';' and a byte-order mark.
		csv := "\ufeffemail;first_name;last_name;send_invite\r\nzoe@x.test;Zoe;Zed;no\r\n"
		job := e.must(202, e.op, "POST", path, upload{name: "x.csv", content: []byte(csv)})
		e.runImports()
		if got := e.must(200, e.op, "GET", path+"/"+job["id"].(string), nil); got["created"] != 1.0 || got["format"] != "csv" {
			t.Errorf("csv import = %v", got)
		}
		// A member created by an import has no password until they reset it.
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "zoe@x.test", "password": pw}), 401, "unauthenticated")
	})
}

// TestExport: the member list, with its filters, as .xlsx and .csv.
func TestExport(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"})
		e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"teams": []string{"Sales"}})
		e.member(e.op, "acme", "cmd@acme.test", "member", map[string]any{"first_name": "=1+2"})
		e.member(e.op, "acme", "bob@acme.test", "member")
		x := e.call(e.op, "GET", "/api/v1/organizations/acme/members/export.xlsx?role=member", nil)
		if x.Status != 200 {
			t.Fatalf("export = %d %s", x.Status, x.Raw)
		}
		_, rows := readXLSX(t, x.Raw)
		if len(rows) != 3 || rows[0][0] != "email" || rows[0][len(rows[0])-1] != "state" {
			t.Errorf("xlsx rows = %q", rows)
		}
		c := e.call(e.op, "GET", "/api/v1/organizations/acme/members/export.csv", nil)
		if c.Status != 200 || !strings.HasPrefix(c.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv export = %d %v", c.Status, c.Header)
		}
		if !strings.Contains(c.Raw, "ada@acme.test,Fad,Lad,,,Admin,Sales,,active") || !strings.Contains(c.Raw, "'=1+2") {
			t.Errorf("csv = %q", c.Raw)
		}
		problem(t, e.call(e.op, "GET", "/api/v1/organizations/acme/members/export.csv?state=sleeping", nil), 422, "validation", "state")
	})
}

// TestExportImportRoundTrip: an exported CSV, phone numbers and all, imports back
// into another organization as the same people.
func TestExportImportRoundTrip(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"phone": "+44 20 7946 0018"})
		csv := e.call(e.op, "GET", "/api/v1/organizations/acme/members/export.csv", nil).Raw
		job := e.must(202, e.op, "POST", "/api/v1/organizations/globex/imports", upload{name: "acme.csv", content: []byte(csv)})
		e.runImports()
		if got := e.must(200, e.op, "GET", "/api/v1/organizations/globex/imports/"+job["id"].(string), nil); got["invited"] != 1.0 || got["failed"] != 0.0 {
			t.Errorf("re-import = %v", got)
		}
		m := e.must(200, e.op, "GET", "/api/v1/organizations/globex/members", nil)["items"].([]any)[0].(map[string]any)
		if m["role"] != "admin" || m["account"].(map[string]any)["phone"] != "+442079460018" {
			t.Errorf("re-imported member = %v", m)
		}
	})
}

// withFiller copies the workbook base and adds n parts of 1 MiB of zeros each
// (about 1 KB packed): 190 of them made a 218 KB upload that took 495 MiB.
func withFiller(t *testing.T, base []byte, n int) []byte {
	t.Helper()
	var block bytes.Buffer
	fw, err := flate.NewWriter(&block, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	if _, err := fw.Write(zeros); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("xl/media/image%d.png", i+1), Method: zip.Deflate,
			CRC32: crc32.ChecksumIEEE(zeros), CompressedSize64: uint64(block.Len()), UncompressedSize64: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(block.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportZipBombRefused: a workbook within the upload limit whose parts unpack
// to far more than it weighs is 422 naming file, and nothing is applied.
func TestImportZipBombRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db)
		e.org("acme", "")
		bomb := withFiller(t, xlsxFile(t, [][]string{{"email"}, {"zoe@x.test"}}), 190)
		r := e.call(e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.xlsx", content: bomb})
		problem(t, r, 422, "validation", "file")
		if !strings.Contains(string(r.Raw), "zip bombs") {
			t.Errorf("the answer does not say why: %s", r.Raw)
		}
		if got := e.must(200, e.op, "GET", "/api/v1/organizations/acme/imports", nil)["total"]; got != 0.0 {
			t.Errorf("%v imports after the refusal", got)
		}
	})
}
