package importer

import (
	"context"
	"fmt"
	"io"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/spreadsheet"
)

// Upload queues an uploaded file as an import of orgRef: it checks that the actor may
// import before a byte is parsed, reads at most maxBytes, reads the whole file
// (Prepare) so that nothing is applied from a file that is not a readable workbook or
// CSV, and starts the job. Errors: those of CheckImport and StartImport; ETOOLARGE
// past maxBytes; EINVALID naming "file" for an unreadable file or one that would
// unpack past the sheet limits.
func Upload(ctx context.Context, svc *account.Service, actor account.Actor, orgRef, fileName string,
	r io.Reader, maxBytes int64, limits spreadsheet.Limits) (account.Import, error) {
	if err := svc.CheckImport(ctx, actor, orgRef); err != nil {
		return account.Import{}, err
	}
	content, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return account.Import{}, account.Invalid("file", "could not be read: "+err.Error())
	}
	if int64(len(content)) > maxBytes {
		return account.Import{}, TooLarge(maxBytes)
	}
	p, err := Prepare(content, limits)
	if err != nil {
		return account.Import{}, err
	}
	return svc.StartImport(ctx, actor, orgRef, account.ImportUpload{
		FileName: fileName, Format: p.Format, Content: p.Stored, Total: p.Total})
}

// TooLarge is the error of an upload larger than limit bytes.
func TooLarge(limit int64) error {
	return account.Errorf(account.ETOOLARGE, "%s", TooLargeMessage(limit))
}

// TooLargeMessage says how large an upload may be.
func TooLargeMessage(limit int64) string {
	return fmt.Sprintf("the file is larger than the %d MB an upload may have", limit>>20)
}
