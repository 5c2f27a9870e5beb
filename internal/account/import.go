package account

import "time"

// ImportState is the life cycle of an import job.
type ImportState string

const (
	ImportQueued  ImportState = "queued"  // uploaded, waiting for a runner
	ImportRunning ImportState = "running" // a runner is applying its rows
	ImportDone    ImportState = "done"    // every row applied or rejected
	ImportFailed  ImportState = "failed"  // stopped: the file could not be read to the end
)

// Import is an uploaded file of people, applied in the background in batches. Each
// batch's rows, their audit events and emails, the rejected rows and the progress
// below are committed together, so a job that stops (a crash, a restart) resumes
// after its last committed batch: no row is applied twice and none is lost.
type Import struct {
	ID       string
	OrgID    string
	ActorID  string // the uploader, whose permissions apply the rows
	FileName string
	Format   string // "xlsx" or "csv"
	Size     int64
	State    ImportState
	Total    int // data rows in the file (the header and empty rows not counted)
	// Processed counts the data rows done (applied or rejected), in file order: a
	// resumed job skips that many.
	Processed int
	Created   int    // new active members (send_invite: no)
	Invited   int    // new invited members (send_invite: yes)
	Updated   int    // existing members changed
	Failed    int    // rejected rows
	Error     string // why a failed job stopped
	// LeaseOwner and LeaseUntil say which runner applies the job, until when: a
	// runner that stops renewing its lease (it crashed) leaves the job to another.
	LeaseOwner string
	LeaseUntil time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time // zero until done or failed
}

// ImportError is one rejected row (or one problem of it) with the row's cells, for
// the downloadable error report.
type ImportError struct {
	ImportID string
	Row      int // the spreadsheet's own row number (the header is row 1)
	Field    string
	Message  string
	Values   []string // the row's cells, in the file's column order
}
