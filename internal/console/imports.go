package console

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/importer"
)

// importsView is the Import screen: the template, the upload form and the
// organization's recent imports.
type importsView struct {
	Imports []account.Import
	Problem *problem
}

func (c *Console) imports(w http.ResponseWriter, r *http.Request, p *page) {
	c.renderImports(w, r, p, http.StatusOK, nil)
}

func (c *Console) renderImports(w http.ResponseWriter, r *http.Request, p *page, status int, prob *problem) {
	list, err := c.svc.FindImports(r.Context(), p.Actor, p.Org().ID, account.ImportQuery{Limit: 20})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, status, importsPage(p, &importsView{Imports: list.Items, Problem: prob}))
}

// upload queues an uploaded workbook or CSV: the whole file is read before
// anything is applied, so an unreadable or oversized file is refused at once.
func (c *Console) upload(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	const overhead = 64 << 10 // the multipart envelope around the file
	if r.ContentLength > c.maxUpload+overhead {
		c.renderImports(w, r, p, http.StatusRequestEntityTooLarge, c.problemOf(ctx, importer.TooLarge(c.maxUpload)))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, c.maxUpload+overhead)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var perr error = account.Invalid("file", "choose an .xlsx or .csv file to upload")
		if strings.Contains(err.Error(), "too large") {
			perr = importer.TooLarge(c.maxUpload)
		}
		c.renderImports(w, r, p, c.problemOf(ctx, perr).Status, c.problemOf(ctx, perr))
		return
	}
	defer file.Close()
	imp, err := importer.Upload(ctx, c.svc, p.Actor, p.Org().ID, hdr.Filename, file, c.maxUpload, c.sheet)
	if err != nil {
		prob := c.problemOf(ctx, err)
		c.renderImports(w, r, p, prob.Status, prob)
		return
	}
	c.onImport()
	c.redirect(w, r, p.base()+"/import/"+seg(imp.ID), "Your file is uploaded; its rows are applied in the background.")
}

// importErrorsPage is how many rejected rows' errors the import page lists at once.
const importErrorsPage = 100

// importErrorsView is the page of rejected rows shown, after row After.
type importErrorsView struct {
	After int
	Page  account.ImportErrorPage
}

// summary says which rejected rows the page shows, of how many.
func (v *importErrorsView) summary(imp account.Import) string {
	if len(v.Page.Errors) == 0 {
		return ""
	}
	first, last := v.Page.Errors[0].Row, v.Page.Errors[len(v.Page.Errors)-1].Row
	if v.After == 0 && v.Page.NextRow == 0 {
		return "All " + plural(imp.Failed, "rejected row", "rejected rows") + " are listed below and in the error report."
	}
	return "Showing file rows " + num(first) + " to " + num(last) + " of " + plural(imp.Failed, "rejected row", "rejected rows") +
		"; every one of them is in the error report."
}

// importProgress shows one import; while it runs the page refreshes its progress
// section every second.
func (c *Console) importProgress(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	imp, _, err := c.svc.FindImport(ctx, p.Actor, p.Org().ID, r.PathValue("id"), 1)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v := &importErrorsView{}
	if a := r.URL.Query().Get("after"); a != "" {
		if v.After, err = strconv.Atoi(a); err != nil {
			v.After = -1
		}
	}
	if v.Page, err = c.svc.FindImportErrors(ctx, p.Actor, p.Org().ID, imp.ID, v.After, importErrorsPage); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, importPage(p, imp, v))
}

func (c *Console) importTemplate(w http.ResponseWriter, r *http.Request, p *page) {
	offer, err := c.svc.FindImportOffer(r.Context(), p.Actor, p.Org().ID)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	var b bytes.Buffer
	if err := importer.WriteTemplate(&b, offer); err != nil {
		c.fail(w, r, p, err)
		return
	}
	download(w, offer.Organization.Slug+"-import-template.xlsx", xlsxType, b.Bytes())
}

func (c *Console) importErrors(w http.ResponseWriter, r *http.Request, p *page) {
	var b bytes.Buffer
	id := r.PathValue("id")
	if err := importer.WriteErrorReport(r.Context(), &b, c.svc, p.Actor, p.Org().ID, id); err != nil {
		c.fail(w, r, p, err)
		return
	}
	download(w, "import-"+id+"-errors.xlsx", xlsxType, b.Bytes())
}

// export downloads the member list with the Users screen's filter.
func (c *Console) export(format string) handler {
	return func(w http.ResponseWriter, r *http.Request, p *page) { c.exportAs(w, r, p, format) }
}

func (c *Console) exportAs(w http.ResponseWriter, r *http.Request, p *page, format string) {
	f := filterFrom(r.URL.Query())
	q := f.memberQuery()
	q.Cursor, q.Limit = "", 0
	var b bytes.Buffer
	if err := importer.Export(r.Context(), &b, format, c.svc, p.Actor, p.Org().ID, q); err != nil {
		c.fail(w, r, p, err)
		return
	}
	ct := xlsxType
	if format == "csv" {
		ct = "text/csv; charset=utf-8"
	}
	download(w, p.Org().Slug+"-members."+format, ct, b.Bytes())
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func download(w http.ResponseWriter, name, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(body)
}
