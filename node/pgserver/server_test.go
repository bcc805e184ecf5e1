package pgserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/byokflow/byokflow/internal/scram"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// newVerifier returns a fresh password and its SCRAM verifier.
func newVerifier(t *testing.T) (password, verifier string) {
	t.Helper()
	password, err := scram.NewPassword()
	require.NoError(t, err)
	verifier, err = scram.Verifier(password)
	require.NoError(t, err)
	return password, verifier
}

// requireAuthFails asserts that logging in with password is refused as a
// wrong password (SQLSTATE 28P01).
func requireAuthFails(t *testing.T, ctx context.Context, port int, user, password, database string) {
	t.Helper()
	conn, err := tcpConnect(ctx, port, user, password, database)
	if err == nil {
		conn.Close(ctx)
		t.Fatalf("login as %s with a wrong password succeeded", user)
	}
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "28P01", pgErr.Code, err.Error())
}

func TestServer_BootstrapAllowsSCRAMLoginOnly(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := testServer(t, testRoot(t), "p")
	start := time.Now()
	require.NoError(t, s.Init(ctx))
	t.Logf("initdb took %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	require.NoError(t, s.Start(ctx))
	t.Logf("start took %s", time.Since(start).Round(time.Millisecond))
	pw, v := newVerifier(t)
	require.NoError(t, s.Bootstrap(ctx, Bootstrap{AdminRole: "admin", AdminVerifier: v, Database: "app"}))

	conn, err := tcpConnect(ctx, s.Port(), "admin", pw, "app")
	require.NoError(t, err)
	var who, db string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&who, &db))
	require.NoError(t, conn.Close(ctx))
	require.Equal(t, []string{"admin", "app"}, []string{who, db})

	requireAuthFails(t, ctx, s.Port(), "admin", pw+"x", "app")
	requireAuthFails(t, ctx, s.Port(), "postgres", "", "app") // the superuser has no password at all
	hbaFile, err := os.ReadFile(filepath.Join(s.DataDir(), "pg_hba.conf"))
	require.NoError(t, err)
	require.NotContains(t, strings.ToLower(string(hbaFile)), "trust")
	require.Contains(t, string(hbaFile), "peer map=byokflow")
	requireCleanEnviron(t, s)
}

// requireCleanEnviron asserts the server did not inherit the caller's
// environment, where the agent keeps its API keys.
func requireCleanEnviron(t *testing.T, s *Server) {
	t.Helper()
	pf, _, err := s.readPidFile()
	require.NoError(t, err)
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pf.pid))
	require.NoError(t, err)
	for _, kv := range strings.Split(strings.TrimRight(string(env), "\x00"), "\x00") {
		name, _, _ := strings.Cut(kv, "=")
		require.Contains(t, []string{"PATH", "HOME", "USER", "LC_ALL", "TZ", "PGDATA", "PG_GRANDPARENT_PID", "PGSYSCONFDIR", "PGLOCALEDIR", "PWD"},
			name, "the server's environment")
	}
}

func TestServer_InitStartBootstrapTwiceIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	root := testRoot(t)
	s := testServer(t, root, "p")
	_, v1 := newVerifier(t)
	b := Bootstrap{AdminRole: "admin", AdminVerifier: v1, Database: "app"}
	require.NoError(t, s.Init(ctx))
	require.NoError(t, s.Start(ctx))
	require.NoError(t, s.Bootstrap(ctx, b))

	// A restarted agent builds a new Server and does it all again, with a
	// new password for the admin.
	again := testServerAt(t, root, "p", s.Port())
	pw2, v2 := newVerifier(t)
	b.AdminVerifier = v2
	require.NoError(t, again.Init(ctx))
	require.NoError(t, again.Start(ctx))
	require.NoError(t, again.Bootstrap(ctx, b))
	conn, err := tcpConnect(ctx, s.Port(), "admin", pw2, "app")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	err = again.BaseBackup(ctx, Source{Host: "127.0.0.1", Port: 1, User: "r"})
	require.ErrorIs(t, err, ErrForeignData, "BaseBackup must not touch a primary")
	st, err := again.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, Status{Running: true}, st)
}

func TestServer_StopLeavesNoProcess(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	root := testRoot(t)
	s := testServer(t, root, "p")
	require.NoError(t, s.Init(ctx))
	require.NoError(t, s.Start(ctx))
	pids, err := s.procs()
	require.NoError(t, err)
	require.Greater(t, len(pids), 1, "a postmaster and its children")

	start := time.Now()
	require.NoError(t, s.Stop(ctx))
	t.Logf("stop took %s", time.Since(start).Round(time.Millisecond))
	run, err := s.Running()
	require.NoError(t, err)
	require.False(t, run)
	pids, err = s.procs()
	require.NoError(t, err)
	require.Empty(t, pids)
	requireNoProcesses(t, root)
	require.NoError(t, s.Stop(ctx), "stopping a stopped server")
	st, err := s.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, Status{}, st)

	require.NoError(t, s.RemoveData())
	_, err = os.Stat(s.DataDir())
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorIs(t, s.Start(ctx), ErrNotInitialized)
}

func TestServer_StartRecoversAfterKill9(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := testServer(t, testRoot(t), "p")
	require.NoError(t, s.Init(ctx))
	require.NoError(t, s.Start(ctx))
	mustExec(t, s, "postgres", "CREATE TABLE t AS SELECT 42 AS x")
	pf, ok, err := s.readPidFile()
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, syscall.Kill(pf.pid, syscall.SIGKILL))
	waitFor(t, 5*time.Second, "postmaster gone", func() bool { return !s.isOurs(pf.pid) })
	run, err := s.Running()
	require.NoError(t, err)
	require.False(t, run, "a postmaster.pid of a dead server is not running")

	start := time.Now()
	require.NoError(t, s.Start(ctx))
	t.Logf("start after kill -9 (crash recovery) took %s", time.Since(start).Round(time.Millisecond))
	conn, err := s.Connect(ctx, "postgres")
	require.NoError(t, err)
	defer conn.Close(ctx)
	var x int
	require.NoError(t, conn.QueryRow(ctx, "SELECT x FROM t").Scan(&x))
	require.Equal(t, 42, x)
}

func TestInit_RedoesCrashedInitdbAndRefusesForeignData(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := testServer(t, testRoot(t), "p")
	mkdirData(t, s, "base/1")
	require.NoError(t, os.WriteFile(filepath.Join(s.DataDir(), "PG_VERSION"), []byte("15\n"), 0o600))
	require.ErrorIs(t, s.Start(ctx), ErrNotInitialized)
	require.NoError(t, s.Init(ctx), "a half-made data dir is redone")
	require.NoError(t, s.Start(ctx))

	other := testServer(t, filepath.Dir(filepath.Dir(s.DataDir())), "q")
	mkdirData(t, other, "")
	require.NoError(t, os.WriteFile(filepath.Join(other.DataDir(), "notes.txt"), nil, 0o600))
	require.ErrorIs(t, other.Init(ctx), ErrForeignData)
	_, err := os.Stat(filepath.Join(other.DataDir(), "notes.txt"))
	require.NoError(t, err, "a refused Init changes nothing")
}

func TestNew_RejectsTooLongSocketPath(t *testing.T) {
	_, err := New(Config{DataDir: "/d", SocketDir: "/" + strings.Repeat("s", 100), Port: 5432})
	require.ErrorContains(t, err, "more than 107")
}

func TestFreePort_IsBindable(t *testing.T) {
	p, err := FreePort()
	require.NoError(t, err)
	require.Greater(t, p, 0)
}

func TestBaseBackupClass(t *testing.T) {
	for out, want := range map[string]error{
		`pg_basebackup: error: connection to server at "127.0.0.1", port 1 failed: Connection refused`: ErrPrimaryUnreachable,
		`FATAL:  password authentication failed for user "r"`:                                          ErrPrimaryRefused,
		`FATAL:  no pg_hba.conf entry for replication connection from host "127.0.0.1"`:                ErrPrimaryRefused,
		`pg_basebackup: error: could not write to file: No space left on device`:                       nil,
	} {
		if got := baseBackupClass(out); !errors.Is(got, want) || (want == nil) != (got == nil) {
			t.Errorf("baseBackupClass(%q) = %v, want %v", out, got, want)
		}
	}
}

func TestInit_KillsStrayInitdbOfADeadCaller(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := testServer(t, testRoot(t), "p")
	require.NoError(t, s.ownDir(s.DataDir()))
	// An initdb that outlived the agent that started it, still writing.
	stray := s.command(context.Background(), "initdb", nil, "-D", s.DataDir(), "-U", "postgres")
	require.NoError(t, stray.Start())
	time.Sleep(300 * time.Millisecond)

	require.NoError(t, s.Init(ctx))
	require.Error(t, stray.Wait(), "the stray initdb was killed")
	require.NoError(t, s.Start(ctx))
	mustExec(t, s, "postgres", "SELECT 1")
}

func TestInit_UntraversableParentFailsClearly(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root switches to another OS user")
	}
	root := testRoot(t)
	closed := filepath.Join(root, "closed")
	require.NoError(t, os.Mkdir(closed, 0o700))
	s, err := New(Config{DataDir: filepath.Join(closed, "data"), SocketDir: filepath.Join(root, "s"), Port: 5999})
	require.NoError(t, err)
	require.ErrorContains(t, s.Init(testContext(t)), "cannot traverse "+closed)
}

func TestStart_PortTakenFailsWithTheServersWords(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := testServer(t, testRoot(t), "p")
	require.NoError(t, s.Init(ctx))
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port()))
	require.NoError(t, err)
	defer l.Close()
	err = s.Start(ctx)
	require.ErrorContains(t, err, "Address already in use")
	t.Log(err)
	run, rerr := s.Running()
	require.NoError(t, rerr)
	require.False(t, run)
}
