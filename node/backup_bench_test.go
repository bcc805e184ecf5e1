package node

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// Benchmarks of the data path against a bare COPY, on a table of at least
// 256 MB (~270k rows of ~1 KB) in a serving primary node on an encrypted
// loop volume. Run them as root, one iteration at a time:
//
//	go test ./node -run '^$' -bench 'Backup|Restore' -benchtime=1x
//
// MB/s is over the table's size (pg_table_size), the same for every side.
// peak-MB is the largest Go runtime footprint (Sys - HeapReleased) seen
// while the operation ran, sampled every 10 ms.

const (
	benchRows      = 270000
	benchVolumeMiB = 4096
	benchTable     = `CREATE TABLE big (id bigint PRIMARY KEY, created timestamptz NOT NULL, payload text NOT NULL)`
	benchFill      = `INSERT INTO big SELECT g, timestamptz '2025-01-01' + g * interval '1 second',
  substr(repeat(md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text), 11), 1, 1000)
FROM generate_series(1, $1::int) g`
)

// benchEnv is a harness whose primary node holds a source database with
// table big.
type benchEnv struct {
	ctx  context.Context
	h    *harness
	src  string
	size int64
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	h := newHarnessOn(b, benchVolumeMiB)
	h.backupDir = b.TempDir()
	h.restart()
	h.src = h.startPrimary(testInstance, "orders-db-1", testDatabase)
	e := &benchEnv{ctx: h.ctx, h: h, src: h.scratchDB()}
	conn := e.conn(b, e.src)
	defer conn.Close(e.ctx)
	_, err := conn.Exec(e.ctx, benchTable)
	require.NoError(b, err)
	_, err = conn.Exec(e.ctx, benchFill, benchRows)
	require.NoError(b, err)
	_, err = conn.Exec(e.ctx, "VACUUM ANALYZE big")
	require.NoError(b, err)
	require.NoError(b, conn.QueryRow(e.ctx, "SELECT pg_table_size('big')").Scan(&e.size))
	require.GreaterOrEqual(b, e.size, int64(256<<20), "table big must hold at least 256 MB")
	return e
}

// createDB creates a scratch database on the node's server.
func (e *benchEnv) createDB(b *testing.B) string { return e.h.scratchDB() }

// conn connects to database on the node's server as the agent does (the
// superuser over the unix socket), so both sides read the same way.
func (e *benchEnv) conn(b *testing.B, database string) *pgx.Conn {
	c, err := e.h.agent.dataFor(e.ctx, "benchmark", e.h.src.ref())
	require.NoError(b, err)
	conn, err := c.connect(e.ctx, database)
	require.NoError(b, err)
	return conn
}

func (e *benchEnv) backup(b *testing.B, id string) contract.BackupDatabaseResult {
	res, err := e.h.agent.BackupDatabase(e.ctx, e.h.backupInput(e.src, id))
	require.NoError(b, err)
	return res
}

func BenchmarkBackup(b *testing.B) {
	e := newBenchEnv(b)
	b.Run("plain-copy", func(b *testing.B) {
		conn := e.conn(b, e.src)
		defer conn.Close(e.ctx)
		measure(b, e.size, func() {
			_, err := conn.PgConn().CopyTo(e.ctx, io.Discard, "COPY big TO STDOUT")
			require.NoError(b, err)
		})
	})
	// plain-copy-file is plain-copy into a file that is fsynced, as a
	// backup must be: the same disk work as byokflow, without encryption.
	b.Run("plain-copy-file", func(b *testing.B) {
		conn := e.conn(b, e.src)
		defer conn.Close(e.ctx)
		path := filepath.Join(b.TempDir(), "big.copy")
		measure(b, e.size, func() {
			f, err := os.Create(path)
			require.NoError(b, err)
			w := bufio.NewWriterSize(f, 1<<20)
			_, err = conn.PgConn().CopyTo(e.ctx, w, "COPY big TO STDOUT")
			require.NoError(b, err)
			require.NoError(b, w.Flush())
			require.NoError(b, f.Sync())
			require.NoError(b, f.Close())
		})
	})
	b.Run("byokflow", func(b *testing.B) {
		measure(b, e.size, func() { e.backup(b, "bench-backup") })
	})
}

func BenchmarkRestore(b *testing.B) {
	e := newBenchEnv(b)
	bk := e.backup(b, "bench-restore")
	export := e.export(b)
	b.Run("plain-copy", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			conn := e.conn(b, e.createDB(b))
			_, err := conn.Exec(e.ctx, benchTable)
			require.NoError(b, err)
			f, err := os.Open(export)
			require.NoError(b, err)
			b.StartTimer()
			measureOnce(b, e.size, func() {
				_, err = conn.PgConn().CopyFrom(e.ctx, f, "COPY big FROM STDIN")
				require.NoError(b, err)
			})
			b.StopTimer()
			f.Close()
			conn.Close(e.ctx)
			b.StartTimer()
		}
	})
	b.Run("byokflow", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			in := restoreInput(bk, e.h.src, e.createDB(b))
			b.StartTimer()
			measureOnce(b, e.size, func() {
				res, err := e.h.agent.RestoreDatabase(e.ctx, in)
				require.NoError(b, err)
				require.Equal(b, int64(benchRows), res.Rows)
			})
		}
	})
}

// export writes table big, as a bare COPY TO STDOUT gives it, to a file.
func (e *benchEnv) export(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "big.copy")
	f, err := os.Create(path)
	require.NoError(b, err)
	defer f.Close()
	conn := e.conn(b, e.src)
	defer conn.Close(e.ctx)
	_, err = conn.PgConn().CopyTo(e.ctx, f, "COPY big TO STDOUT")
	require.NoError(b, err)
	return path
}

// measure runs op b.N times, reporting throughput over size bytes and the
// peak memory.
func measure(b *testing.B, size int64, op func()) {
	for b.Loop() {
		measureOnce(b, size, op)
	}
}

// measureOnce runs op once under the memory sampler and reports
// throughput over size bytes (set per iteration) and peak-MB.
func measureOnce(b *testing.B, size int64, op func()) {
	b.SetBytes(size)
	debug.FreeOSMemory()
	stop := samplePeak()
	op()
	peak := stop()
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
}

// samplePeak samples the Go runtime's footprint (Sys - HeapReleased) every
// 10 ms until the returned function is called, which returns the maximum.
func samplePeak() (stop func() uint64) {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.Sys-m.HeapReleased)
		mu.Unlock()
	}
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				sample()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}
