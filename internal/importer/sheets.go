package importer

import (
	"context"
	"io"
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/spreadsheet"
)

// WriteTemplate writes an organization's import template: the columns of API.md,
// drop-down lists of what the caller may grant (account.FindImportOffer: the roles,
// the organization's teams, the applications whose seats they may give), yes/no for
// send_invite, one example row and an instructions sheet.
func WriteTemplate(w io.Writer, o account.Offer) error {
	roles := make([]string, len(o.Roles))
	for i, r := range o.Roles {
		roles[i] = r.Name
	}
	teams := make([]string, len(o.Teams))
	for i, t := range o.Teams {
		teams[i] = t.Name
	}
	apps := make([]string, len(o.Applications))
	for i, a := range o.Applications {
		apps[i] = a.Key
	}
	example := []string{"ada@example.com", "Ada", "Lovelace", "+44 20 7946 0018", "ada", "Member", first(teams), first(apps), "yes"}
	return spreadsheet.WriteTemplate(w, spreadsheet.Template{
		Sheet: "People",
		Columns: []spreadsheet.Column{
			{Name: account.ColEmail, Required: true, Note: "The person's email address. A row whose email is already a member of " + o.Organization.Name + " updates that member."},
			{Name: account.ColFirstName, Note: "Required for a person who has no Roster account yet and is not invited (send_invite no); an invitee gives it on accepting."},
			{Name: account.ColLastName, Note: "Required for a person who has no Roster account yet and is not invited (send_invite no); an invitee gives it on accepting."},
			{Name: account.ColPhone, Note: "With the country code, e.g. +44 20 7946 0018."},
			{Name: account.ColUsername, Note: "Optional; unique across Roster."},
			{Name: account.ColRole, Note: "A role you may grant; member when empty.", Choices: roles, Strict: true},
			{Name: account.ColTeams, Note: "Team names, several separated by \";\". The teams must exist.", Choices: teams},
			{Name: account.ColApplications, Note: "Application keys, several separated by \";\": a seat of each is given (or reserved for an invitee).", Choices: apps},
			{Name: account.ColSendInvite, Note: "yes (the default): an invitation email; no: an active member at once, who sets a password with \"forgot password\".", Choices: []string{"yes", "no"}, Strict: true},
		},
		Example: example,
		Instructions: []string{
			"Import people into " + o.Organization.Name + ".",
			"Fill one row per person on the People sheet, below the header row; replace the example row. Keep the header row as it is: columns are matched by name, in any order.",
			"Empty cells leave an existing member's details as they are; applications only add seats.",
			"Upload the file on the Import page (or POST it to /api/v1/organizations/" + o.Organization.Slug + "/imports). Rows with errors are listed with their row number and the reason, and can be downloaded as a workbook to fix and upload again. Uploading the same file twice changes nothing the second time.",
		},
	})
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// WriteErrorReport writes an import's rejected rows as a workbook ready to fix and
// upload again: the file's own header plus an "error" column, and each rejected row
// with its reasons.
func WriteErrorReport(ctx context.Context, w io.Writer, svc *account.Service, actor account.Actor, orgRef, id string) error {
	var out spreadsheet.Writer
	var row, width int
	var cells []string
	var reasons []string
	flush := func() error {
		if row == 0 {
			return nil
		}
		return out.Write(append(append([]string(nil), cells...), "row "+strconv.Itoa(row)+": "+strings.Join(reasons, "; ")))
	}
	err := svc.EachImportError(ctx, actor, orgRef, id, func(imp account.Import, e account.ImportError) error {
		if out == nil {
			header, err := fileHeader(ctx, svc, actor, orgRef, imp.ID)
			if err != nil {
				return err
			}
			if out, err = spreadsheet.NewXLSXWriter(w, "Errors", append(header, "error")); err != nil {
				return err
			}
			width = len(header)
		}
		if e.Row != row {
			if err := flush(); err != nil {
				return err
			}
			row, cells, reasons = e.Row, pad(e.Values, width), nil
		}
		reasons = append(reasons, e.Field+": "+e.Message)
		return nil
	})
	if err != nil {
		return err
	}
	if out == nil { // no rejected rows: an empty report with the columns
		if out, err = spreadsheet.NewXLSXWriter(w, "Errors", append(append([]string(nil), account.ImportColumns...), "error")); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return out.Close()
}

// fileHeader is the header row of an import's file.
func fileHeader(ctx context.Context, svc *account.Service, actor account.Actor, orgRef, id string) ([]string, error) {
	content, err := svc.UploadedFile(ctx, actor, orgRef, id)
	if err != nil {
		return nil, err
	}
	_, header, err := openStored(content)
	return header, err
}

// pad makes a row exactly n cells wide (its cells past the header's are dropped), so
// that the error column lines up.
func pad(cells []string, n int) []string {
	out := make([]string, n)
	copy(out, cells)
	return out
}
