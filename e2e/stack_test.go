package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
	"github.com/byokflow/byokflow/internal/testenv"
	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
)

// shared is what every end-to-end test of this package shares: one dev
// server and one build of the programs.
var shared struct {
	once     sync.Once
	err      error
	server   *testsuite.DevServer
	binDir   string
	hostPort string
	ui       uiPorts // the Web UI and the codec endpoint it decodes with
}

func TestMain(m *testing.M) {
	code := m.Run()
	writeReliabilityReport()
	if shared.server != nil {
		_ = shared.server.Stop()
	}
	if shared.binDir != "" {
		_ = os.RemoveAll(shared.binDir)
	}
	os.Exit(code)
}

func startShared(cli string) error {
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "byokflow-e2e-bin-")
		if err != nil {
			shared.err = err
			return
		}
		shared.binDir = dir
		for _, p := range []string{"worker", "starter"} {
			// byoktest: the programs report the data keys they make (secret scan)
			out, err := exec.Command("go", "build", "-tags", "byoktest", "-o", filepath.Join(dir, p), "github.com/byokflow/byokflow/"+p).CombinedOutput()
			if err != nil {
				shared.err = fmt.Errorf("build %s: %v\n%s", p, err, out)
				return
			}
		}
		shared.ui = freeUIPorts()
		shared.server, shared.err = testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
			ExistingPath:  cli,
			LogLevel:      "error",
			ClientOptions: &client.Options{Namespace: "default"},
			EnableUI:      true,
			UIPort:        shared.ui.UI,
			ExtraArgs: []string{
				"--search-attribute", "ByokInstanceID=Keyword",
				"--search-attribute", "ByokRootKeyID=Keyword",
				"--search-attribute", "ByokOperation=Keyword",
				"--ui-codec-endpoint", "http://" + shared.ui.Codec,
			},
		})
		if shared.err == nil {
			shared.hostPort = shared.server.FrontendHostPort()
		}
	})
	return shared.err
}

// Stack is one test's world: its own catalog database, its own emulator,
// a control-plane worker and node agents on the shared dev server. Task
// queues are shared with other tests' workers only through the namespace,
// so tests of this package do not run in parallel.
type Stack struct {
	t       testing.TB
	Emu     *emulatortest.Env
	env     []string
	dataDir string
	// volumes are the hosts' encrypted volumes (fscrypt-capable ext4 on
	// loop devices), each node agent's --storage.
	volumes map[string]*fscrypttest.Vol
	mu      sync.Mutex
	procs   map[string]*exec.Cmd
	// nextEnv is extra environment for the next start of a process
	// (holdNext), used once.
	nextEnv map[string][]string
	// codecRoot is the platform root key of the stack's codec keyring.
	codecRoot string
	// hostPort is the Temporal frontend the stack's programs use.
	hostPort string
}

// stackVolumeMiB is the size of each host's encrypted volume (a sparse
// image): room for a few instances' servers and their WAL. A test that
// puts many nodes on a host raises it before NewStack.
var stackVolumeMiB = 1024

// stackHosts are the hosts whose node agents a stack can run.
var stackHosts = []string{"a", "b", "c"}

// NewStack starts the stack for t and stops it when t ends; opts adjust
// the emulator (its timing guards are off).
func NewStack(t testing.TB, opts ...emulatortest.Option) *Stack {
	cli, dbURL := testenv.TemporalCLI(t)
	require.NoError(t, startShared(cli))
	return newStackOn(t, shared.hostPort, dbURL, opts...)
}

// newStackOn is NewStack on the Temporal frontend at hostPort and the
// PostgreSQL server at dbURL (the test's catalog database is made there),
// for a test that runs, and restarts, its own; the caller has called
// startShared (the programs' build).
func newStackOn(t testing.TB, hostPort, dbURL string, opts ...emulatortest.Option) *Stack {
	emu := emulatortest.Start(t, append([]emulatortest.Option{emulatortest.WithTiming(emulator.Timing{})}, opts...)...)
	s := &Stack{t: t, Emu: emu, dataDir: t.TempDir(), procs: map[string]*exec.Cmd{}, volumes: map[string]*fscrypttest.Vol{},
		hostPort: hostPort}
	// The volumes come first, so that their clean-up (unmount) runs after
	// stopAll has stopped the agents and their servers.
	for _, h := range stackHosts {
		s.volumes[h] = fscrypttest.New(t, fscrypttest.Options{SizeMiB: stackVolumeMiB})
	}
	catalogURL := freshDatabase(t, dbURL)
	s.env = append(os.Environ(),
		"TEMPORAL_ADDRESS="+hostPort,
		"TEMPORAL_NAMESPACE=default",
		"BYOK_DATABASE_URL="+catalogURL,
		"BYOK_BACKUP_DIR="+filepath.Join(s.dataDir, "backups"),
		"BYOK_CREDENTIALS_DIR="+filepath.Join(s.dataDir, "credentials"),
		"BYOK_WORKER_STATE_DIR="+filepath.Join(s.dataDir, "worker"),
	)
	for _, line := range emu.Dev.ExportLines(emu.URL) {
		s.env = append(s.env, strings.TrimPrefix(line, "export "))
	}
	s.env = append(s.env, s.codecEnv()...)
	t.Cleanup(s.stopAll)
	return s
}

// freshDatabase creates an empty database for the test's catalog and drops
// it (with every instance database the test made) when the test ends.
func freshDatabase(t testing.TB, serverURL string) string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, serverURL)
	require.NoError(t, err)
	name := "byok_e2e_" + randomHex(4)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(serverURL)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// UniqueName returns an instance name no other test run uses.
func UniqueName(prefix string) string { return prefix + "-" + randomHex(3) }

// StartWorker starts the control-plane worker.
func (s *Stack) StartWorker() { s.start("worker") }

// StartNode starts (or restarts) the node agent of host, on its volume.
func (s *Stack) StartNode(host string) {
	s.t.Helper()
	vol := s.volumes[host]
	require.NotNil(s.t, vol, "host %s has no volume (hosts: %v)", host, stackHosts)
	s.start("node-"+host, "node", "--host", host, "--data-dir", filepath.Join(s.dataDir, "node-"+host),
		"--storage", vol.Dir)
}

// StopNode stops the node agent of host, as a host going down would: the
// agent stops its servers and removes their fscrypt keys.
func (s *Stack) StopNode(host string) { s.stop("node-" + host) }

// KillNode kills the node agent of host with SIGKILL, as a crash would;
// its servers, which run detached, keep running.
func (s *Stack) KillNode(host string) { s.kill("node-" + host) }

func (s *Stack) start(name string, args ...string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Nil(s.t, s.procs[name], "%s is already running", name)
	// Appended to, so that a restarted process's log follows its
	// predecessor's (the secret scan reads both).
	log, err := os.OpenFile(filepath.Join(s.dataDir, name+".log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(s.t, err)
	from, err := log.Seek(0, io.SeekEnd)
	require.NoError(s.t, err)
	cmd := exec.Command(filepath.Join(shared.binDir, "worker"), args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(slices.Clone(s.env), s.nextEnv[name]...), log, log
	delete(s.nextEnv, name)
	require.NoError(s.t, cmd.Start())
	s.procs[name] = cmd
	s.waitReady(name, log.Name(), from)
}

// waitReady waits for the process to log, past offset from of its log,
// that it polls its task queue.
func (s *Stack) waitReady(name, logPath string, from int64) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		if int64(len(b)) > from && bytes.Contains(b[from:], []byte("msg=ready")) {
			return
		}
		if cmd := s.procs[name]; cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logPath)
	s.t.Fatalf("%s did not become ready:\n%s", name, b)
}

func (s *Stack) stop(name string) {
	s.mu.Lock()
	cmd := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (s *Stack) stopAll() {
	s.mu.Lock()
	names := make([]string, 0, len(s.procs))
	for n := range s.procs {
		names = append(names, n)
	}
	s.mu.Unlock()
	for _, n := range names {
		s.stop(n)
	}
	for h, v := range s.volumes {
		if left := serversUnder(v.Dir); len(left) > 0 {
			s.t.Errorf("the node agent of host %s stopped but left servers running: %v", h, left)
			_ = exec.Command("sh", "-c", "pkill -KILL -f 'postgres -D "+v.Dir+"'").Run()
		}
	}
	if s.t.Failed() {
		for _, n := range names {
			b, _ := os.ReadFile(filepath.Join(s.dataDir, n+".log"))
			s.t.Logf("--- log of %s ---\n%s", n, b)
		}
	}
}

// Result is what a starter run printed and how it exited.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Starter runs the starter CLI with args and the stack's environment.
func (s *Stack) Starter(args ...string) Result {
	s.t.Helper()
	r := <-s.StarterAsync(args...)
	require.NotEqual(s.t, -1, r.Code, "run starter: %s", r.Stderr)
	return r
}

// StarterEnv runs the starter with extra environment, e.g. BYOK_OPERATOR.
func (s *Stack) StarterEnv(env []string, args ...string) Result {
	s.t.Helper()
	r := <-s.StarterAsyncEnv(env, args...)
	require.NotEqual(s.t, -1, r.Code, "run starter: %s", r.Stderr)
	return r
}

// StarterAsync runs the starter in the background; the result arrives on the channel.
func (s *Stack) StarterAsync(args ...string) <-chan Result { return s.StarterAsyncEnv(nil, args...) }

// StarterAsyncEnv is StarterAsync with extra environment.
func (s *Stack) StarterAsyncEnv(env []string, args ...string) <-chan Result {
	ch := make(chan Result, 1)
	go func() {
		cmd := exec.Command(filepath.Join(shared.binDir, "starter"), args...)
		cmd.Env = append(append([]string(nil), s.env...), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code = exitErr.ExitCode()
		} else if err != nil {
			ch <- Result{Stderr: err.Error(), Code: -1}
			return
		}
		ch <- Result{stdout.String(), stderr.String(), code}
	}()
	return ch
}

// KillWorker kills the control-plane worker with SIGKILL, as a crash would.
func (s *Stack) KillWorker() { s.kill("worker") }

func (s *Stack) kill(name string) {
	s.mu.Lock()
	cmd := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	require.NotNil(s.t, cmd, "%s is not running", name)
	require.NoError(s.t, cmd.Process.Kill())
	_ = cmd.Wait()
}
