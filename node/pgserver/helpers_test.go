package pgserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// skipNoPostgres is the one message of every test skipped for want of the
// PostgreSQL server binaries.
const skipNoPostgres = "postgresql server binaries not found (apt-get install postgresql): skipping real-server tests"

// helperEnv, when set, makes the test binary the helper process of
// TestServer_SurvivesKilledStarter: it starts a server on the data directory
// of that variable and then waits to be killed.
const helperEnv = "BYOK_PGSERVER_HELPER_DATA"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(runHelper(dir))
	}
	os.Exit(m.Run())
}

// runHelper starts a server on dir, prints its postmaster's pid, and blocks.
func runHelper(dir string) int {
	port, _ := strconv.Atoi(os.Getenv(helperEnv + "_PORT"))
	s, err := New(Config{DataDir: dir, SocketDir: filepath.Join(filepath.Dir(dir), "s"), Port: port})
	if err == nil {
		err = s.Init(context.Background())
	}
	if err == nil {
		err = s.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pf, _, _ := s.readPidFile()
	fmt.Printf("started %d\n", pf.pid)
	select {}
}

// testRoot returns a fresh directory the server's OS user can traverse
// (t.TempDir is 0700), removed when the test ends, after its servers stop.
func testRoot(t *testing.T) string {
	t.Helper()
	if _, err := FindBin(); err != nil {
		t.Skip(skipNoPostgres)
	}
	root, err := os.MkdirTemp("", "pgsrv-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(root, 0o755))
	t.Cleanup(func() {
		requireNoProcesses(t, root)
		if os.Getenv("KEEP") == "" {
			os.RemoveAll(root)
		}
	})
	return root
}

// testServer returns a Server on root/name/data with a free port, stopped
// when the test ends.
func testServer(t *testing.T, root, name string) *Server {
	t.Helper()
	port, err := FreePort()
	require.NoError(t, err)
	return testServerAt(t, root, name, port)
}

// testServerAt is testServer on a given port.
func testServerAt(t *testing.T, root, name string, port int) *Server {
	t.Helper()
	s, err := New(Config{
		DataDir:   filepath.Join(root, name, "data"),
		SocketDir: filepath.Join(root, name, "s"),
		Port:      port,
		Logger:    slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, s.Stop(ctx))
	})
	return s
}

// requireNoProcesses fails unless no process mentions root, as pgrep -f
// sees them (postmasters carry -D <data dir> on their command line).
func requireNoProcesses(t *testing.T, root string) {
	t.Helper()
	out, err := exec.Command("pgrep", "-a", "-f", root).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return // pgrep found nothing
	}
	require.NoError(t, err, "pgrep")
	t.Fatalf("processes left under %s:\n%s", root, out)
}

// mkdirData makes s's data directory as a test wants to prefill it, with
// parents the server's user can traverse.
func mkdirData(t *testing.T, s *Server, sub string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(s.DataDir()), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(s.DataDir(), sub), 0o700))
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// testContext is a context for one test's server work.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// tcpConnect logs in over TCP on 127.0.0.1 with a password (SCRAM).
func tcpConnect(ctx context.Context, port int, user, password, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable connect_timeout=5",
		port, user, database))
	if err != nil {
		return nil, err
	}
	cfg.Password = password
	return pgx.ConnectConfig(ctx, cfg)
}

// exec runs one statement on database as the superuser.
func mustExec(t *testing.T, s *Server, database, sql string, args ...any) {
	t.Helper()
	conn, err := s.Connect(testContext(t), database)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(testContext(t), sql, args...)
	require.NoError(t, err)
}

// waitFor polls cond every 100ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readLine reads the first line a helper prints, or fails after timeout.
func readLine(t *testing.T, r *bufio.Reader, timeout time.Duration) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		l, _ := r.ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		return l
	case <-time.After(timeout):
		t.Fatalf("helper printed nothing within %s", timeout)
		return ""
	}
}
