package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/importer"
)

// ImportErrorView is one problem of a rejected row.
type ImportErrorView struct {
	Row     int    `json:"row" doc:"The spreadsheet's row number (the header is row 1)."`
	Field   string `json:"field" doc:"The column, or row/file."`
	Message string `json:"message"`
}

// ImportView is an import job and its progress.
type ImportView struct {
	ID         string            `json:"id"`
	State      string            `json:"state" enum:"queued,running,done,failed"`
	FileName   string            `json:"file_name"`
	Format     string            `json:"format" enum:"xlsx,csv"`
	Size       int64             `json:"size" doc:"Bytes."`
	Total      int               `json:"total" doc:"Data rows in the file."`
	Processed  int               `json:"processed"`
	Created    int               `json:"created" doc:"New active members (send_invite: no)."`
	Invited    int               `json:"invited" doc:"New invited members."`
	Updated    int               `json:"updated" doc:"Existing members changed."`
	Failed     int               `json:"failed" doc:"Rejected rows."`
	Error      *string           `json:"error" doc:"Why a failed import stopped."`
	Errors     []ImportErrorView `json:"errors" doc:"The rejected rows' problems, the first 1,000; the whole report is …/errors.xlsx."`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	FinishedAt *time.Time        `json:"finished_at"`
}

func importView(imp account.Import, errs []account.ImportError) ImportView {
	v := ImportView{
		ID: imp.ID, State: string(imp.State), FileName: imp.FileName, Format: imp.Format, Size: imp.Size,
		Total: imp.Total, Processed: imp.Processed, Created: imp.Created, Invited: imp.Invited, Updated: imp.Updated,
		Failed: imp.Failed, Error: nullable(imp.Error), CreatedAt: imp.CreatedAt, UpdatedAt: imp.UpdatedAt,
		Errors: mapSlice(errs, func(e account.ImportError) ImportErrorView {
			return ImportErrorView{Row: e.Row, Field: e.Field, Message: e.Message}
		}),
	}
	if !imp.FinishedAt.IsZero() {
		at := imp.FinishedAt
		v.FinishedAt = &at
	}
	return v
}

// fileOutput is a downloaded file.
type fileOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func attachment(name, contentType string, body []byte) *fileOutput {
	return &fileOutput{ContentType: contentType, ContentDisposition: `attachment; filename="` + name + `"`, Body: body}
}

// importTemplate is the organization's template, with the drop-downs the caller may use.
func (s *Server) importTemplate(ctx context.Context, in *OrgPath) (*fileOutput, error) {
	offer, err := s.svc.FindImportOffer(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	var b bytes.Buffer
	if err := importer.WriteTemplate(&b, offer); err != nil {
		return nil, s.fail(ctx, err)
	}
	return attachment(offer.Organization.Slug+"-import-template.xlsx", xlsxType, b.Bytes()), nil
}

type uploadImportInput struct {
	OrgPath
	RawBody huma.MultipartFormFiles[struct {
		File huma.FormFile `form:"file" required:"true" doc:"The .xlsx workbook or CSV file."`
	}]
}

type importOutput struct {
	Body ImportView
}

// uploadImport checks the whole file before anything is applied (a file that is not
// a readable workbook or CSV is 422, a zip bomb or an oversized file 413) and queues
// the import.
func (s *Server) uploadImport(ctx context.Context, in *uploadImportInput) (*importOutput, error) {
	if err := s.svc.CheckImport(ctx, actorFrom(ctx), in.Org); err != nil {
		return nil, s.fail(ctx, err) // before the file is looked at
	}
	f := in.RawBody.Data().File
	if !f.IsSet {
		return nil, s.fail(ctx, account.Invalid("file", "is required: a multipart field named file"))
	}
	imp, err := importer.Upload(ctx, s.svc, actorFrom(ctx), in.Org, f.Filename, f, s.maxUpload, s.sheetLimits)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if s.onImport != nil {
		s.onImport()
	}
	return &importOutput{Body: importView(imp, nil)}, nil
}

type listImportsInput struct {
	OrgPath
	PageQuery
}

type importsOutput struct {
	Body List[ImportView]
}

// listImports lists the organization's imports, newest first (without their errors).
func (s *Server) listImports(ctx context.Context, in *listImportsInput) (*importsOutput, error) {
	p, err := s.svc.FindImports(ctx, actorFrom(ctx), in.Org, account.ImportQuery{Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &importsOutput{Body: listOf(p, func(imp account.Import) ImportView { return importView(imp, nil) })}, nil
}

// ImportPath addresses one import of an organization.
type ImportPath struct {
	OrgPath
	ID string `path:"id" maxLength:"64" doc:"The import's id."`
}

func (s *Server) getImport(ctx context.Context, in *ImportPath) (*importOutput, error) {
	imp, errs, err := s.svc.FindImport(ctx, actorFrom(ctx), in.Org, in.ID, 1000)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &importOutput{Body: importView(imp, errs)}, nil
}

// importErrors is the error report: the rejected rows with an error column.
func (s *Server) importErrors(ctx context.Context, in *ImportPath) (*fileOutput, error) {
	var b bytes.Buffer
	if err := importer.WriteErrorReport(ctx, &b, s.svc, actorFrom(ctx), in.Org, in.ID); err != nil {
		return nil, s.fail(ctx, err)
	}
	return attachment("import-"+in.ID+"-errors.xlsx", xlsxType, b.Bytes()), nil
}

type exportInput struct {
	OrgPath
	Q            string `query:"q"`
	Role         string `query:"role"`
	Team         string `query:"team"`
	State        string `query:"state"`
	Application  string `query:"application"`
	Subscription string `query:"subscription"`
}

func (s *Server) exportXLSX(ctx context.Context, in *exportInput) (*fileOutput, error) {
	return s.export(ctx, in, "xlsx")
}

func (s *Server) exportCSV(ctx context.Context, in *exportInput) (*fileOutput, error) {
	return s.export(ctx, in, "csv")
}

// export writes the member list, with the list's filters, as a file.
func (s *Server) export(ctx context.Context, in *exportInput, format string) (*fileOutput, error) {
	var b bytes.Buffer
	err := importer.Export(ctx, &b, format, s.svc, actorFrom(ctx), in.Org, account.MemberQuery{
		Q: in.Q, Role: in.Role, Team: in.Team, State: in.State, Application: in.Application, Subscription: in.Subscription})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	ct := xlsxType
	if format == "csv" {
		ct = "text/csv; charset=utf-8"
	}
	return attachment(strings.ToLower(in.Org)+"-members."+format, ct, b.Bytes()), nil
}

// limitUpload answers an upload larger than the limit with 413 before reading it
// (by its Content-Length), and cuts off one that lies.
func (s *Server) limitUpload(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/imports") {
			overhead := int64(64 << 10) // the multipart envelope around the file
			if r.ContentLength > s.maxUpload+overhead {
				writeProblem(w, newProblem(r.Context(), http.StatusRequestEntityTooLarge, account.ETOOLARGE,
					importer.TooLargeMessage(s.maxUpload)))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, s.maxUpload+overhead)
		}
		next.ServeHTTP(w, r)
	})
}
