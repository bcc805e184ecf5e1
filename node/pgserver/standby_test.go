package pgserver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// testPrimary starts a bootstrapped primary with a replication role and
// table t, and returns it with the role's password.
func testPrimary(t *testing.T, root string) (*Server, string) {
	t.Helper()
	ctx := testContext(t)
	p := testServer(t, root, "primary")
	_, adminV := newVerifier(t)
	replPw, replV := newVerifier(t)
	require.NoError(t, p.Init(ctx))
	require.NoError(t, p.Start(ctx))
	require.NoError(t, p.Bootstrap(ctx, Bootstrap{AdminRole: "admin", AdminVerifier: adminV, Database: "app",
		ReplicationRole: "replicator", ReplicationVerifier: replV}))
	mustExec(t, p, "app", "CREATE TABLE t (x text)")
	return p, replPw
}

// requireEmptyDir asserts dir is absent or empty.
func requireEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if !os.IsNotExist(err) {
		require.NoError(t, err)
		require.Empty(t, entries, "%s must be empty after a failed base backup", dir)
	}
}

// waitStreaming waits until s streams from its primary.
func waitStreaming(t *testing.T, s *Server) Status {
	t.Helper()
	var st Status
	start := time.Now()
	waitFor(t, 15*time.Second, "standby streaming", func() bool {
		var err error
		st, err = s.Status(testContext(t))
		require.NoError(t, err)
		return st.Streaming
	})
	t.Logf("standby streaming %s after start", time.Since(start).Round(time.Millisecond))
	return st
}

// waitRow waits until the standby has replicated the row x = want.
func waitRow(t *testing.T, s *Server, want string) {
	t.Helper()
	conn, err := s.Connect(testContext(t), "app")
	require.NoError(t, err)
	defer conn.Close(context.Background())
	waitFor(t, 10*time.Second, "row "+want+" on the standby", func() bool {
		var n int
		require.NoError(t, conn.QueryRow(testContext(t), "SELECT count(*) FROM t WHERE x = $1", want).Scan(&n))
		return n == 1
	})
}

func TestBaseBackup_StandbyStreamsAndIsReadOnly(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	root := testRoot(t)
	p, replPw := testPrimary(t, root)
	sb := testServer(t, root, "standby")
	src := Source{Host: "127.0.0.1", Port: p.Port(), User: "replicator", Password: replPw, AppName: "node_b"}
	start := time.Now()
	require.NoError(t, sb.BaseBackup(ctx, src))
	t.Logf("base backup took %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	require.NoError(t, sb.Start(ctx))
	t.Logf("standby start took %s", time.Since(start).Round(time.Millisecond))
	st := waitStreaming(t, sb)
	require.True(t, st.InRecovery)

	mustExec(t, p, "app", "INSERT INTO t VALUES ($1)", "hello")
	waitRow(t, sb, "hello")
	conn, err := sb.Connect(ctx, "app")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "INSERT INTO t VALUES ('no')")
	conn.Close(ctx)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "25006", pgErr.Code, "read_only_sql_transaction")

	standbys, err := p.Standbys(ctx)
	require.NoError(t, err)
	require.Len(t, standbys, 1)
	require.Equal(t, "node_b", standbys[0].AppName)
	require.Equal(t, "streaming", standbys[0].State)
	pst, err := p.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, pst.Standbys)
	require.False(t, pst.InRecovery)

	require.NoError(t, sb.BaseBackup(ctx, src), "a complete standby is success")
	_, v := newVerifier(t)
	require.ErrorContains(t, sb.Bootstrap(ctx, Bootstrap{AdminRole: "a", AdminVerifier: v, Database: "d"}), "server is a standby")
}

func TestBaseBackup_RedoesPartialCopy(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	root := testRoot(t)
	p, replPw := testPrimary(t, root)
	sb := testServer(t, root, "standby")
	// What a pg_basebackup killed half-way leaves: backup_label comes first.
	mkdirData(t, sb, "base")
	for _, f := range []string{"backup_label", "PG_VERSION", "postgresql.conf", settingsFile} {
		require.NoError(t, os.WriteFile(filepath.Join(sb.DataDir(), f), []byte("partial\n"), 0o600))
	}
	require.ErrorIs(t, sb.Init(ctx), ErrForeignData, "Init must not take a base backup for a crashed initdb")
	require.ErrorIs(t, sb.Start(ctx), ErrNotInitialized, "a partial copy must not start")
	src := Source{Host: "127.0.0.1", Port: p.Port(), User: "replicator", Password: replPw}
	require.NoError(t, sb.BaseBackup(ctx, src))
	require.NoError(t, sb.Start(ctx))
	waitStreaming(t, sb)
	mustExec(t, p, "app", "INSERT INTO t VALUES ('after')")
	waitRow(t, sb, "after")
}

func TestBaseBackup_FailsClassifiedAndLeavesDataDirEmpty(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	root := testRoot(t)
	closed, err := FreePort()
	require.NoError(t, err)
	sb := testServer(t, root, "standby")
	err = sb.BaseBackup(ctx, Source{Host: "127.0.0.1", Port: closed, User: "replicator", Password: "secret-pw"})
	require.ErrorIs(t, err, ErrPrimaryUnreachable)
	require.NotContains(t, err.Error(), "secret-pw")
	t.Log(err)
	requireEmptyDir(t, sb.DataDir())

	p, replPw := testPrimary(t, root)
	err = sb.BaseBackup(ctx, Source{Host: "127.0.0.1", Port: p.Port(), User: "replicator", Password: replPw + "x"})
	require.ErrorIs(t, err, ErrPrimaryRefused)
	require.NotContains(t, err.Error(), replPw)
	t.Log(err)
	requireEmptyDir(t, sb.DataDir())
	require.ErrorIs(t, sb.Start(ctx), ErrNotInitialized)
}
