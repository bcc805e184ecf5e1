package pgserver_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/byokflow/byokflow/node/fscrypt"
	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
	"github.com/byokflow/byokflow/node/pgserver"
)

// The pgbench workload: scale 20 (about 300 MB of tables and indexes) is
// ten times shared_buffers (32 MB), so reads and writes reach the storage.
const (
	pgbenchScale    = 20
	pgbenchClients  = 4
	pgbenchThreads  = 2
	pgbenchDuration = 20 * time.Second
	// pgbenchVolumeMiB holds the data, the WAL of the load (max_wal_size
	// is 1 GB) and wal_keep_size.
	pgbenchVolumeMiB = 3072
)

// skipPgbench is the one message of BenchmarkPgbench when it cannot run.
const skipPgbench = "BenchmarkPgbench: needs root, loop devices, mkfs.ext4 and the postgresql server binaries with pgbench (apt-get install postgresql; run make bench as root)"

// BenchmarkPgbench compares, in one run, the same PostgreSQL server (this
// package's settings) on two loop volumes of the same size: a plain ext4
// one, and a directory under an fscrypt v2 policy (aes-256-xts) on an ext4
// volume with the encrypt feature, as a node's data directory is. Each runs
// pgbench's TPC-B-like and select-only workloads with the same clients,
// threads and duration, the servers taking turns so only one runs at a
// time: once from a cold page cache (every read decrypts), and once warm
// (after a run of the same workload, as a serving node is: fscrypt
// decrypts into the page cache, so warm reads cost what plain ones do).
// It reports the tps of each and the ratios encrypted/plain (targets,
// checked by scripts/bench.sh on the cold runs: select-only >= 0.95,
// tpcb-like >= 0.80) and logs the kernel's xts(aes) driver, which decides
// what encryption costs. Run it with -benchtime=1x:
//
//	go test -run '^$' -bench BenchmarkPgbench -benchtime=1x ./node/pgserver/
func BenchmarkPgbench(b *testing.B) {
	bin := pgbenchBin(b)
	b.Logf("kernel crypto driver for xts(aes): %s", xtsDriver())
	plain := newPgbenchServer(b, bin, plainDir(b))
	encrypted := newPgbenchServer(b, bin, encryptedDir(b))
	plain.initialize(b)
	encrypted.initialize(b)
	b.ResetTimer()
	var tps [2][2][2]float64 // [cache][workload][server]
	for range b.N {
		for c, warm := range []bool{false, true} {
			for w, workload := range []string{"tpcb", "select"} {
				for i, srv := range []*pgbenchServer{plain, encrypted} {
					tps[c][w][i] += srv.measure(b, workload, warm) / float64(b.N)
				}
			}
		}
	}
	for c, cache := range []string{"", "-warm"} {
		for w, workload := range []string{"tpcb", "select"} {
			b.ReportMetric(tps[c][w][0], "plain-"+workload+cache+"-tps")
			b.ReportMetric(tps[c][w][1], "encrypted-"+workload+cache+"-tps")
			b.ReportMetric(tps[c][w][1]/tps[c][w][0], workload+cache+"-encrypted/plain")
		}
	}
}

// pgbenchBin returns the PostgreSQL bin directory, or skips b.
func pgbenchBin(b *testing.B) string {
	if os.Geteuid() != 0 {
		b.Skip(skipPgbench)
	}
	for _, p := range []string{"/dev/loop-control", "/proc/sys/vm/drop_caches"} {
		if _, err := os.Stat(p); err != nil {
			b.Skip(skipPgbench)
		}
	}
	bin, err := pgserver.FindBin()
	if err != nil {
		b.Skip(skipPgbench)
	}
	for _, tool := range []string{filepath.Join(bin, "pgbench"), "mkfs.ext4", "losetup", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skip(skipPgbench)
		}
	}
	return bin
}

// plainDir returns a directory on a volume without the encrypt feature.
func plainDir(b *testing.B) string {
	vol := fscrypttest.New(b, fscrypttest.Options{SizeMiB: pgbenchVolumeMiB, NoEncrypt: true})
	return mkdirReachable(b, filepath.Join(vol.Dir, "plain"))
}

// encryptedDir returns an empty directory under an fscrypt policy of a
// fresh random key, added to its volume until b ends.
func encryptedDir(b *testing.B) string {
	vol := fscrypttest.New(b, fscrypttest.Options{SizeMiB: pgbenchVolumeMiB})
	key := make([]byte, fscrypt.KeySize)
	_, _ = rand.Read(key)
	id, err := fscrypt.AddKey(vol.Dir, key)
	clear(key)
	if err != nil {
		b.Fatal(err)
	}
	// Runs after the server's Stop, before the volume's unmount.
	b.Cleanup(func() {
		if _, err := fscrypt.RemoveKey(vol.Dir, id); err != nil {
			b.Errorf("remove benchmark key: %v", err)
		}
	})
	dir := mkdirReachable(b, filepath.Join(vol.Dir, "encrypted"))
	if err := fscrypt.SetPolicy(dir, id); err != nil {
		b.Fatal(err)
	}
	return dir
}

// mkdirReachable makes dir 0755, so the server's OS user can reach DataDir.
func mkdirReachable(b *testing.B, dir string) string {
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	return dir
}

// pgbenchServer is one server pgbench runs against, stopped between runs.
type pgbenchServer struct {
	name   string // "plain" or "encrypted"
	srv    *pgserver.Server
	bin    string
	socket string
}

func newPgbenchServer(b *testing.B, bin, root string) *pgbenchServer {
	port, err := pgserver.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	socket := filepath.Join(root, "s")
	srv, err := pgserver.New(pgserver.Config{Bin: bin, DataDir: filepath.Join(root, "data"), SocketDir: socket, Port: port})
	if err != nil {
		b.Fatal(err)
	}
	// Registered after the volume's cleanup, so it runs before the unmount.
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			b.Errorf("stop benchmark server: %v", err)
		}
	})
	return &pgbenchServer{name: filepath.Base(root), srv: srv, bin: bin, socket: socket}
}

// initialize makes the cluster and loads pgbench's tables, logging how
// long each took (initdb is also the bulk of a node's provisioning).
func (p *pgbenchServer) initialize(b *testing.B) {
	start := time.Now()
	if err := p.srv.Init(context.Background()); err != nil {
		b.Fatal(err)
	}
	initdb := time.Since(start)
	p.start(b)
	start = time.Now()
	p.pgbench(b, "-i", "-q", "-s", strconv.Itoa(pgbenchScale))
	b.Logf("%s: initdb took %s, pgbench -i -s %d took %s", p.name, initdb.Round(10*time.Millisecond),
		pgbenchScale, time.Since(start).Round(100*time.Millisecond))
	p.stop(b)
}

// measure runs one workload ("tpcb" or "select") from a cold page cache,
// or, warm, after an unmeasured run of the same workload, and returns its
// tps.
func (p *pgbenchServer) measure(b *testing.B, workload string, warm bool) float64 {
	p.start(b)
	defer p.stop(b)
	fscrypttest.DropCaches(b)
	args := []string{"-c", strconv.Itoa(pgbenchClients), "-j", strconv.Itoa(pgbenchThreads),
		"-T", strconv.Itoa(int(pgbenchDuration.Seconds()))}
	if workload == "select" {
		args = append(args, "-S")
	}
	if warm {
		p.pgbench(b, args...)
	}
	out := p.pgbench(b, args...)
	m := tpsLine.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("%s %s: no tps in pgbench output:\n%s", p.name, workload, out)
	}
	tps, _ := strconv.ParseFloat(m[1], 64)
	b.Logf("%s %s (warm %v): %s", p.name, workload, warm, summary(out))
	return tps
}

// tpsLine is pgbench's result, e.g. "tps = 512.3 (without initial connection time)".
var tpsLine = regexp.MustCompile(`(?m)^tps = ([\d.]+) \(without initial connection time\)`)

func (p *pgbenchServer) start(b *testing.B) {
	if err := p.srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// stop stops the server: its shutdown checkpoint writes out what the run
// dirtied, so the next run starts clean.
func (p *pgbenchServer) stop(b *testing.B) {
	if err := p.srv.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// pgbench runs pgbench as the superuser over the server's unix socket
// (peer authentication maps the caller to role postgres) and returns its
// output.
func (p *pgbenchServer) pgbench(b *testing.B, args ...string) string {
	args = append([]string{"-h", p.socket, "-p", strconv.Itoa(p.srv.Port()), "-U", "postgres"}, args...)
	cmd := exec.Command(filepath.Join(p.bin, "pgbench"), append(args, "postgres")...)
	// A clean environment: no PGHOST, PGOPTIONS or the like of the caller.
	cmd.Env = []string{"PATH=" + p.bin + ":/usr/bin:/bin", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%s: pgbench %s: %v\n%s", p.name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// summary picks pgbench's latency and tps lines.
func summary(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "latency average") || strings.HasPrefix(l, "tps =") ||
			strings.HasPrefix(l, "number of transactions actually processed") {
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	return strings.Join(keep, "; ")
}

// xtsDriver returns the driver of the highest-priority xts(aes) entry of
// /proc/crypto, the one fscrypt's aes-256-xts uses.
func xtsDriver() string {
	f, err := os.Open("/proc/crypto")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer f.Close()
	best, bestPrio := "none: no xts(aes) in /proc/crypto", -1
	var name, driver string
	prio := 0
	flush := func() {
		if name == "xts(aes)" && prio > bestPrio {
			best, bestPrio = fmt.Sprintf("%s (priority %d)", driver, prio), prio
		}
		name, driver, prio = "", "", 0
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			flush()
			continue
		}
		switch strings.TrimSpace(k) {
		case "name":
			name = strings.TrimSpace(v)
		case "driver":
			driver = strings.TrimSpace(v)
		case "priority":
			prio, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	flush()
	return best
}
