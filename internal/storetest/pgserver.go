package storetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// PostgresBin is where the fault tests look for PostgreSQL's programs (initdb,
// pg_ctl); ROSTER_POSTGRES_BIN overrides it.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// RequirePostgresEnv, when set (CI sets it), makes a test that needs its own
// PostgreSQL server fail rather than skip when initdb is missing.
const RequirePostgresEnv = "ROSTER_REQUIRE_POSTGRES"

// PGServer is a PostgreSQL server of the test's own, in a temporary directory on a
// free port, that the test may stop, start, freeze and thaw: never the machine's
// shared server.
type PGServer struct {
	t             testing.TB
	bin, dir      string
	port          int
	runAs         string // the unprivileged user it runs as when the test is root
	URL           string // postgres://postgres@127.0.0.1:PORT/postgres
	frozen        []int
	stoppedByTest bool
}

// StartPostgres initializes and starts a private PostgreSQL server; it is stopped
// and removed when the test ends. Without initdb the test is skipped, or fails
// under RequirePostgresEnv.
func StartPostgres(t testing.TB) *PGServer {
	t.Helper()
	bin := os.Getenv("ROSTER_POSTGRES_BIN")
	if bin == "" {
		bin = PostgresBin
	}
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		if os.Getenv(RequirePostgresEnv) != "" {
			t.Fatalf("no initdb in %s, and %s is set", bin, RequirePostgresEnv)
		}
		t.Skipf("no initdb in %s (set ROSTER_POSTGRES_BIN): this test starts a PostgreSQL server of its own", bin)
	}
	dir, err := os.MkdirTemp("", "roster-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &PGServer{t: t, bin: bin, dir: dir}
	t.Cleanup(func() {
		s.Thaw()
		if !s.stoppedByTest {
			_ = s.pgctl("stop", "-m", "immediate", "-w")
		}
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		s.runAs = "nobody"
		u, err := user.Lookup(s.runAs)
		if err != nil {
			t.Fatalf("storetest: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := s.run(filepath.Join(bin, "initdb"), "-D", s.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("storetest: initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	s.Start()
	return s
}

func (s *PGServer) data() string { return filepath.Join(s.dir, "data") }

// run runs a program as the server's user.
func (s *PGServer) run(prog string, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", prog}, args...)...)
	} else {
		cmd = exec.Command(prog, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

func (s *PGServer) pgctl(args ...string) error {
	out, err := s.run(filepath.Join(s.bin, "pg_ctl"), append([]string{"-D", s.data()}, args...)...)
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Start starts the server and waits until it accepts connections.
func (s *PGServer) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60", s.port, s.dir)
	if err := s.pgctl("start", "-w", "-t", "30", "-l", filepath.Join(s.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.t.Fatalf("storetest: %v\n%s", err, log)
	}
	s.stoppedByTest = false
}

// StopImmediate stops the server as a crash would: every backend is killed, no
// connection is closed cleanly (pg_ctl stop -m immediate).
func (s *PGServer) StopImmediate() {
	s.t.Helper()
	s.Thaw()
	if err := s.pgctl("stop", "-m", "immediate", "-w"); err != nil {
		s.t.Fatalf("storetest: %v", err)
	}
	s.stoppedByTest = true
}

// Freeze stops (SIGSTOP) the postmaster and every process of it: the server accepts
// TCP connections (the kernel does) but answers nothing, as a hung host would.
func (s *PGServer) Freeze() {
	s.t.Helper()
	pid := s.postmaster()
	pids := append([]int{pid}, children(pid)...)
	for _, p := range pids {
		if err := syscall.Kill(p, syscall.SIGSTOP); err == nil {
			s.frozen = append(s.frozen, p)
		}
	}
}

// Thaw resumes (SIGCONT) what Freeze stopped.
func (s *PGServer) Thaw() {
	for _, p := range s.frozen {
		_ = syscall.Kill(p, syscall.SIGCONT)
	}
	s.frozen = nil
}

// postmaster is the pid in postmaster.pid's first line.
func (s *PGServer) postmaster() int {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.data(), "postmaster.pid"))
	if err != nil {
		s.t.Fatalf("storetest: %v", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		s.t.Fatalf("storetest: postmaster.pid: %v", err)
	}
	return pid
}

// children lists the processes whose parent is pid (from /proc).
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after the last ")".
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) >= 2 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == pid {
				out = append(out, p)
			}
		}
	}
	return out
}
