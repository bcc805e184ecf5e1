package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/byokflow/byokflow/internal/testenv"
)

// The infrastructure a test restarts (the infra class of the reliability
// suite): a Temporal dev server run as its own process with a database
// file, and a throwaway PostgreSQL cluster for the catalog, each on fixed
// ports, so a kill and a start bring the same service back where it was.

// infraDevServer is a Temporal dev server run with the CLI, as scripts/stack.sh
// runs it.
type infraDevServer struct {
	cli, dbFile, logPath string
	port                 int
	cmd                  *exec.Cmd
	exited               chan struct{} // closed once cmd is reaped
}

// startInfraDevServer starts a dev server on a free port and a database file
// under dir, and stops it when t ends.
func startInfraDevServer(t *testing.T, cli, dir string) *infraDevServer {
	d := &infraDevServer{cli: cli, dbFile: filepath.Join(dir, "temporal.db"), logPath: filepath.Join(dir, "temporal.log"),
		port: freePort()}
	d.start(t)
	t.Cleanup(d.stop)
	return d
}

func (d *infraDevServer) hostPort() string { return "127.0.0.1:" + strconv.Itoa(d.port) }

// start starts the server on its port and database file and returns once
// its frontend serves the default namespace.
func (d *infraDevServer) start(t *testing.T) {
	t.Helper()
	log, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer log.Close()
	d.cmd = exec.Command(d.cli, "server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(d.port),
		"--headless", "--db-filename", d.dbFile, "--log-level", "error",
		"--search-attribute", "ByokInstanceID=Keyword", "--search-attribute", "ByokRootKeyID=Keyword",
		"--search-attribute", "ByokOperation=Keyword")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	// The server dies with the test binary, whatever ends it.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, d.cmd.Start())
	d.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(d.cmd, d.exited)
	deadline := time.Now().Add(60 * time.Second)
	for !d.serves() {
		select {
		case <-d.exited:
			b, _ := os.ReadFile(d.logPath)
			t.Fatalf("the Temporal dev server on port %d exited:\n%s", d.port, b)
		case <-time.After(200 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "the Temporal dev server on port %d is not ready after 60 s", d.port)
	}
}

// serves reports whether the frontend answers for the default namespace.
func (d *infraDevServer) serves() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	nc, err := client.NewNamespaceClient(client.Options{HostPort: d.hostPort(), Logger: infraQuietLogger()})
	if err != nil {
		return false
	}
	defer nc.Close()
	_, err = nc.Describe(ctx, "default")
	return err == nil
}

// kill kills the server with SIGKILL, as a crash would, and waits for it.
func (d *infraDevServer) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, d.cmd.Process.Kill())
	<-d.exited
}

// stop stops the server gracefully, killing it after 10 s.
func (d *infraDevServer) stop() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}

// infraQuietLogger keeps the SDK's client logging out of the test output.
func infraQuietLogger() tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// infraPG is a throwaway PostgreSQL cluster, made with initdb and run
// with pg_ctl as scripts/stack.sh does (as the postgres user when root).
type infraPG struct {
	bin, dir string
	port     int
}

// startInfraPG makes and starts a cluster on a free port, and stops
// and removes it when t ends (after the stack's clean-up, registered later).
func startInfraPG(t *testing.T) *infraPG {
	bin := infraPGBinDir()
	if bin == "" {
		t.Skip("the PostgreSQL server binaries (initdb, pg_ctl) are missing")
	}
	dir, err := os.MkdirTemp("", "byok-infra-pg-")
	require.NoError(t, err)
	p := &infraPG{bin: bin, dir: dir, port: freePort()}
	t.Cleanup(func() {
		_ = p.pgctl("-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(dir)
	})
	if u, err := user.Lookup("postgres"); err == nil && os.Getuid() == 0 {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	out, err := p.asPG(filepath.Join(bin, "initdb"), "-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8").CombinedOutput()
	require.NoError(t, err, "initdb the catalog's cluster in %s:\n%s", dir, out)
	p.start(t)
	return p
}

// url is the URL of the cluster's postgres database.
func (p *infraPG) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// start starts the server and returns once it accepts connections.
func (p *infraPG) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.port, p.dir)
	out, err := p.pgctlOutput("-w", "-t", "60", "-l", filepath.Join(p.dir, "server.log"), "-o", opts, "start")
	require.NoError(t, err, "start the catalog's PostgreSQL on port %d:\n%s", p.port, out)
}

// stop stops the server with the fast shutdown: every session is ended.
func (p *infraPG) stop(t *testing.T) {
	t.Helper()
	out, err := p.pgctlOutput("-m", "fast", "-w", "stop")
	require.NoError(t, err, "stop the catalog's PostgreSQL on port %d:\n%s", p.port, out)
}

func (p *infraPG) pgctl(args ...string) error {
	_, err := p.pgctlOutput(args...)
	return err
}

func (p *infraPG) pgctlOutput(args ...string) ([]byte, error) {
	return p.asPG(filepath.Join(p.bin, "pg_ctl"), append([]string{"-D", p.dir}, args...)...).CombinedOutput()
}

// asPG runs a server program as the postgres user when root (PostgreSQL
// refuses to run as root).
func (p *infraPG) asPG(prog string, args ...string) *exec.Cmd {
	if os.Getuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
	}
	return exec.Command(prog, args...)
}

// infraPGBinDir finds the directory of initdb and pg_ctl as scripts/lib.sh
// pg_bindir does: pg_config's, else the newest /usr/lib/postgresql/*/bin.
func infraPGBinDir() string {
	has := func(d string) bool {
		_, e1 := os.Stat(filepath.Join(d, "initdb"))
		_, e2 := os.Stat(filepath.Join(d, "pg_ctl"))
		return e1 == nil && e2 == nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil && has(string(infraTrimNL(out))) {
		return string(infraTrimNL(out))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	return ""
}

func infraTrimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// infraServices are the Temporal dev server and the catalog cluster the
// infra class's stacks run on: started once per test and restarted by its
// cases.
type infraServices struct {
	dev *infraDevServer
	pg  *infraPG
}

// startInfraServices starts them (after the programs' build) for t.
func startInfraServices(t *testing.T) *infraServices {
	cli, _ := testenv.TemporalCLI(t)
	require.NoError(t, startShared(cli))
	pg := startInfraPG(t)
	return &infraServices{dev: startInfraDevServer(t, cli, t.TempDir()), pg: pg}
}

// stack is a Stack of t on the services. When t ends, a service the case
// left down is started again before the stack's clean-up.
func (in *infraServices) stack(t *testing.T) *Stack {
	s := newStackOn(t, in.dev.hostPort(), in.pg.url())
	t.Cleanup(func() {
		if in.pg.pgctl("status") != nil {
			in.pg.start(t)
		}
		select {
		case <-in.dev.exited:
			in.dev.start(t)
		default:
		}
	})
	return s
}

// infraStarter runs the starter as StarterAsync does and returns its
// process too, for an interrupt.
func (s *Stack) infraStarter(t *testing.T, args ...string) (*exec.Cmd, <-chan Result) {
	t.Helper()
	cmd := exec.Command(filepath.Join(shared.binDir, "starter"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env, &stdout, &stderr
	require.NoError(t, cmd.Start())
	ch := make(chan Result, 1)
	go func() {
		err := cmd.Wait()
		code := 0
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code = exitErr.ExitCode()
		} else if err != nil {
			code = -1
		}
		ch <- Result{stdout.String(), stderr.String(), code}
	}()
	return cmd, ch
}
