package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// timeLayout is fixed-width (always six fractional digits, always Z), so SQLite's text
// comparison orders times correctly. PostgreSQL parses the same text as timestamptz.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// ts passes a time to either engine as its fixed-width UTC text.
type ts time.Time

func (t ts) Value() (driver.Value, error) {
	return time.Time(t).UTC().Format(timeLayout), nil
}

// scanTime scans a time column from either engine: PostgreSQL returns time.Time,
// SQLite returns the text written by ts.
type scanTime struct{ t *time.Time }

func (s scanTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*s.t = v.UTC()
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	case nil:
		*s.t = time.Time{}
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

func (s scanTime) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("scan time %q: %w", v, err)
	}
	*s.t = t.UTC()
	return nil
}

// nullString passes an empty string as SQL NULL (for nullable unique columns).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullTime passes a zero time as SQL NULL (for nullable time columns), else as ts.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}
