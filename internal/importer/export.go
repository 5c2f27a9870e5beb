package importer

import (
	"context"
	"io"
	"strings"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/spreadsheet"
)

// ExportColumns are the columns of a member export: the import's (so that an export
// can be edited and imported again) and the member's state.
var ExportColumns = append(append([]string(nil), account.ImportColumns[:len(account.ImportColumns)-1]...), "state")

// Export writes the members that q selects (the member list's filters) as .xlsx or
// .csv, page by page, so that memory stays flat however large the organization.
// Needs members.read. Errors: those of FindMembers.
func Export(ctx context.Context, w io.Writer, format string, svc *account.Service, actor account.Actor, orgRef string, q account.MemberQuery) error {
	roles, err := svc.FindRoles(ctx, actor, orgRef)
	if err != nil {
		return err
	}
	roleNames := map[string]string{}
	for _, r := range roles {
		roleNames[r.ID] = r.Name
	}
	q.Limit, q.Cursor = 500, ""
	page, err := svc.FindMembers(ctx, actor, orgRef, q) // the first page checks the filters before a byte is written
	if err != nil {
		return err
	}
	var out spreadsheet.Writer
	if format == "csv" {
		out = spreadsheet.NewCSVWriter(w, ExportColumns)
	} else if out, err = spreadsheet.NewXLSXWriter(w, "Members", ExportColumns); err != nil {
		return err
	}
	for {
		for _, m := range page.Items {
			apps := make([]string, len(m.Seats))
			for i, s := range m.Seats {
				apps[i] = s.ApplicationKey
			}
			a := m.Account
			if err := out.Write([]string{a.Email, a.FirstName, a.LastName, a.Phone, a.Username, roleNames[m.RoleID],
				strings.Join(m.Teams, "; "), strings.Join(apps, "; "), string(m.State)}); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return out.Close()
		}
		q.Cursor = page.NextCursor
		if page, err = svc.FindMembers(ctx, actor, orgRef, q); err != nil {
			return err
		}
	}
}
