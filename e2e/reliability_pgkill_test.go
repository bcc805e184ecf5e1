package e2e

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// killAfterCommits is how many transactions the writer commits between two
// kills of the primary's postmaster.
const killAfterCommits = 200

// TestReliability_PrimaryPostgresKilled: the primary's postmaster of a
// two-node instance is killed with SIGKILL in the middle of a stream of
// committed transactions (5 times on one instance in the full suite, once
// in make test). Its node agent restarts it by itself and PostgreSQL
// recovers from the WAL on the encrypted volume: every row whose COMMIT
// returned success is there (count and checksum), no row that was never
// committed is, and the standby streams again and holds the same rows.
func TestReliability_PrimaryPostgresKilled(t *testing.T) {
	relCase(t, "crash-data", "primary postgres SIGKILL under committed writes", func(t *testing.T, row *relRow) {
		s := NewStack(t)
		s.StartWorker()
		s.StartNode("a")
		s.StartNode("b")
		s.Emu.AuthorizeService(t)
		key := s.CreateRootKey("pgkill-root")
		name := UniqueName("pgkill")
		var prov statusDoc
		s.mustJSON(&prov, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
		requireAllAt(t, prov.Nodes, 2, key)
		primary, standby := prov.Nodes[0], prov.Nodes[1]
		w := startWriter(t, s.connConfig(t, name, ""))

		kills := relRepeat(5)
		for i := range kills {
			w.waitCommits(t, killAfterCommits)
			time.Sleep(time.Duration(mrand.Int64N(int64(50 * time.Millisecond)))) // anywhere in a transaction
			pid := postmasterOf(t, name, primary.Node)
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
			took := w.waitRecovered(t, time.Now())
			row.recovered(took)
			t.Logf("kill %d of %d: the primary took writes again %s after its SIGKILL", i+1, kills,
				took.Round(time.Millisecond))
			require.NotEqual(t, pid, postmasterOf(t, name, primary.Node), "a new postmaster")
		}
		w.waitCommits(t, killAfterCommits)
		w.stop()
		require.Equal(t, kills, strings.Count(s.nodeLog(primary.Host), "server found down"),
			"the node agent of host %s restarted the primary once per kill", primary.Host)

		p := s.connect(t, name, "")
		w.requireRows(t, p, "primary")
		sb := s.connect(t, name, standby.Node)
		eventually(t, "the standby to stream again and replay every row", func() bool {
			var streaming bool
			err := sb.QueryRow(context.Background(),
				"select coalesce((select status = 'streaming' from pg_stat_wal_receiver), false)").Scan(&streaming)
			want := tableSum(p)
			return err == nil && streaming && want != "" && tableSum(sb) == want
		})
		w.requireRows(t, sb, "standby")
		row.note("%d kills: %d commits, %d COMMITs errored (%d of those rows present)", kills, len(w.committed),
			len(w.ambiguous), w.ambiguousPresent(t, p))
		s.requireInvariants(t, relExpect{})
	})
}

// postmasterOf returns the pid of the postmaster of node of instance.
func postmasterOf(t *testing.T, instance, node string) int {
	t.Helper()
	pids := postmasterPids(func(dir string) bool { return strings.Contains(dir, "/"+instance+"/"+node+"/") })
	require.Len(t, pids, 1, "one postmaster of node %s", node)
	for pid := range pids {
		return pid
	}
	return 0
}

// connConfig is the connection of `starter connect` for a node of
// instance ("": the primary): the admin role, its password in the
// operator's passfile.
func (s *Stack) connConfig(t *testing.T, instance, node string) *pgx.ConnConfig {
	t.Helper()
	args := []string{"connect", "--instance", instance}
	if node != "" {
		args = append(args, "--node", node)
	}
	r := s.Starter(args...)
	require.Equal(t, 0, r.Code, r.Stderr)
	cfg, err := pgx.ParseConfig(strings.TrimSpace(r.Stdout))
	require.NoError(t, err)
	cfg.ConnectTimeout = 3 * time.Second
	return cfg
}

// connect opens a connection to a node of instance, closed when t ends.
func (s *Stack) connect(t *testing.T, instance, node string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.ConnectConfig(context.Background(), s.connConfig(t, instance, node))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// tableSum is the count and checksum of every row of the writer's table,
// or "" when it cannot be read.
func tableSum(conn *pgx.Conn) string {
	var n int
	var sum string
	err := conn.QueryRow(context.Background(), "select count(*), coalesce(md5(string_agg(id::text || ':' || v, ',' "+
		"order by id)), '') from pgkill").Scan(&n, &sum)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%s", n, sum)
}

// writer commits one row per transaction, as fast as the primary takes
// them, reconnecting whenever the connection breaks, and records which
// rows it committed: a row is committed when its COMMIT returned success;
// a row whose COMMIT errored is ambiguous (it may or may not be there); a
// row whose transaction failed before its COMMIT was sent cannot be there.
type writer struct {
	cfg       *pgx.ConnConfig
	quit      chan struct{}
	done      chan struct{}
	mu        sync.Mutex
	values    map[int64]string // every row whose COMMIT was sent
	committed []int64          // in order
	at        []commitTime     // of each committed row
	ambiguous []int64
}

// commitTime is when a row's COMMIT returned, and when the connection it
// was made on was opened.
type commitTime struct{ committed, connected time.Time }

// startWriter makes the table and starts writing; stop ends it.
func startWriter(t *testing.T, cfg *pgx.ConnConfig) *writer {
	t.Helper()
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	_, err = conn.Exec(context.Background(), "create table pgkill (id bigint primary key, v text not null)")
	require.NoError(t, err)
	conn.Close(context.Background())
	w := &writer{cfg: cfg, quit: make(chan struct{}), done: make(chan struct{}), values: map[int64]string{}}
	go w.run()
	t.Cleanup(w.stop)
	return w
}

func (w *writer) stop() {
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	<-w.done
}

func (w *writer) run() {
	defer close(w.done)
	var conn *pgx.Conn
	var connected time.Time
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for id := int64(1); ; {
		select {
		case <-w.quit:
			return
		default:
		}
		if conn == nil {
			c, err := pgx.ConnectConfig(context.Background(), w.cfg)
			if err != nil { // down, or recovering: try again
				time.Sleep(20 * time.Millisecond)
				continue
			}
			conn, connected = c, time.Now()
		}
		v := fmt.Sprintf("%d-%s", id, randomHex(8))
		if err := w.commit(conn, id, v); err != nil {
			conn.Close(context.Background())
			conn = nil
		} else {
			w.mu.Lock()
			w.committed = append(w.committed, id)
			w.at = append(w.at, commitTime{committed: time.Now(), connected: connected})
			w.mu.Unlock()
		}
		id++
	}
}

// commit writes row id in a transaction of its own.
func (w *writer) commit(conn *pgx.Conn, id int64, v string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "insert into pgkill (id, v) values ($1, $2)", id, v); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	w.mu.Lock()
	w.values[id] = v
	w.mu.Unlock()
	if err := tx.Commit(ctx); err != nil {
		w.mu.Lock()
		w.ambiguous = append(w.ambiguous, id)
		w.mu.Unlock()
		return err
	}
	return nil
}

func (w *writer) commits() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.committed)
}

// waitCommits waits until n more rows are committed.
func (w *writer) waitCommits(t *testing.T, n int) {
	t.Helper()
	want := w.commits() + n
	eventually(t, fmt.Sprintf("%d commits", want), func() bool { return w.commits() >= want })
}

// waitRecovered waits for the first commit on a connection opened after
// killed (a commit in flight at the kill may still return on the old one)
// and returns how long after killed it returned.
func (w *writer) waitRecovered(t *testing.T, killed time.Time) time.Duration {
	t.Helper()
	var took time.Duration
	eventually(t, "a commit on the restarted primary", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		i := slices.IndexFunc(w.at, func(c commitTime) bool { return c.connected.After(killed) })
		if i >= 0 {
			took = w.at[i].committed.Sub(killed)
		}
		return i >= 0
	})
	return took
}

// requireRows: conn's table holds every committed row (count and checksum
// of the committed ids as the writer computes them), and no row whose
// COMMIT was never sent.
func (w *writer) requireRows(t *testing.T, conn *pgx.Conn, where string) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx := context.Background()
	parts := make([]string, len(w.committed))
	for i, id := range w.committed {
		parts[i] = fmt.Sprintf("%d:%s", id, w.values[id])
	}
	sum := md5.Sum([]byte(strings.Join(parts, ",")))
	var n int
	var got string
	require.NoError(t, conn.QueryRow(ctx, "select count(*), coalesce(md5(string_agg(id::text || ':' || v, ',' "+
		"order by id)), '') from pgkill where id = any($1)", w.committed).Scan(&n, &got))
	require.Equal(t, len(w.committed), n, "every committed row on the %s", where)
	require.Equal(t, hex.EncodeToString(sum[:]), got, "the committed rows' checksum on the %s", where)
	rows, err := conn.Query(ctx, "select id, v from pgkill")
	require.NoError(t, err)
	present, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		ID int64
		V  string
	}])
	require.NoError(t, err)
	for _, r := range present {
		require.Equal(t, w.values[r.ID], r.V, "row %d on the %s was written, as it is, by a COMMIT sent", r.ID, where)
	}
}

// ambiguousPresent counts the rows whose COMMIT errored that are there.
func (w *writer) ambiguousPresent(t *testing.T, conn *pgx.Conn) int {
	var n int
	require.NoError(t, conn.QueryRow(context.Background(), "select count(*) from pgkill where id = any($1)",
		w.ambiguous).Scan(&n))
	return n
}
