package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrUsePgDump is Backup's answer on PostgreSQL, whose own tools do it better.
var ErrUsePgDump = errors.New("roster backs up SQLite only: back up PostgreSQL with pg_dump -Fc and restore with pg_restore (see the README, Operating Roster)")

// Backup writes a consistent copy of a SQLite store to out, online: VACUUM INTO
// reads one snapshot through a reader connection (WAL lets the writer go on) into a
// temporary file beside out, which is checked and then linked to out, so that out
// never holds a partial copy. It refuses to overwrite out. On PostgreSQL it
// returns ErrUsePgDump.
func (db *DB) Backup(ctx context.Context, out string) (version int64, err error) {
	if db.engine != SQLite {
		return 0, ErrUsePgDump
	}
	if _, err := os.Lstat(out); err == nil {
		return 0, fmt.Errorf("backup: %s exists; choose a new file", out)
	}
	if version, err = db.SchemaVersion(ctx); err != nil {
		return 0, err
	}
	if version == 0 {
		return 0, errors.New("backup: the database holds no Roster schema")
	}
	tmp, err := tempPath(out)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	conn, err := db.reader.Conn(ctx)
	if err != nil {
		return 0, err
	}
	_, err = conn.ExecContext(ctx, `VACUUM INTO $1`, tmp)
	conn.Close()
	if err != nil {
		return 0, fmt.Errorf("backup: VACUUM INTO: %w", err)
	}
	// The copy holds password hashes: only its owner may read it.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return 0, err
	}
	if err := syncFile(tmp); err != nil {
		return 0, err
	}
	if _, err := VerifyFile(ctx, tmp); err != nil {
		return 0, fmt.Errorf("backup: the copy does not verify: %w", err)
	}
	// A hard link fails if out appeared meanwhile: no overwrite, ever.
	if err := os.Link(tmp, out); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return version, syncDir(filepath.Dir(out))
}

// VerifyFile checks that path is a sound Roster SQLite database: SQLite's
// integrity_check and foreign_key_check find nothing, and its schema is a version
// this Roster knows. It opens the file read-only and returns the schema version.
func VerifyFile(ctx context.Context, path string) (int64, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var problems []string
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return 0, fmt.Errorf("%s is not a SQLite database: %w", path, err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return 0, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s is not a SQLite database: %w", path, err)
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("%s fails integrity_check: %s", path, strings.Join(problems[:min(len(problems), 5)], "; "))
	}
	var fk int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_check`).Scan(&fk); err != nil {
		return 0, err
	}
	if fk > 0 {
		return 0, fmt.Errorf("%s has %d rows whose foreign keys point nowhere", path, fk)
	}
	v, err := schemaVersion(ctx, db, SQLite)
	if err != nil {
		return 0, err
	}
	switch latest := LatestVersion(SQLite); {
	case v == 0:
		return 0, fmt.Errorf("%s is not a Roster database: it has no migrations", path)
	case v > latest:
		return v, fmt.Errorf("%s has schema version %d, newer than this Roster's %d: restore it with the Roster that made it", path, v, latest)
	}
	return v, nil
}

// Restore replaces the SQLite database at target with the backup file, after
// VerifyFile passes. An existing target is replaced only with force, and never
// while a process has it open (a roster serve, a roster import): that is checked by
// taking SQLite's exclusive lock, which any open connection in WAL mode prevents.
// The copy is written beside target and renamed over it, so target is either the
// old database or the new one, whole. Restoring to the path of a server that is
// starting at that very moment is not detected: stop every server first.
func Restore(ctx context.Context, backup, target string, force bool) (int64, error) {
	v, err := VerifyFile(ctx, backup)
	if err != nil {
		return 0, err
	}
	_, statErr := os.Stat(target)
	exists := statErr == nil
	if exists && !force {
		return 0, fmt.Errorf("restore: %s exists; give --force to replace it (stop every roster serve on it first)", target)
	}
	tmp, err := tempPath(target)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	if err := copyFile(backup, tmp); err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	if exists {
		if err := notInUse(ctx, target); err != nil {
			return 0, err
		}
	}
	// The old database's write-ahead log and index must not be applied to the new one.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	return v, syncDir(filepath.Dir(target))
}

// notInUse fails when another connection has the database at path open.
func notInUse(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `BEGIN EXCLUSIVE`)
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) && (sqErr.Code()&0xff == sqlite3.SQLITE_BUSY || sqErr.Code()&0xff == sqlite3.SQLITE_LOCKED) {
		return fmt.Errorf("restore: %s is in use (a roster serve or another process has it open): stop it first", path)
	}
	if err != nil {
		return fmt.Errorf("restore: lock %s: %w", path, err)
	}
	_, err = conn.ExecContext(ctx, `ROLLBACK`)
	return err
}

// tempPath names a fresh file beside path.
func tempPath(path string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(b[:])), nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
