package node

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator/emulatortest"
	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/encryption/keyprotect"
	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
)

const (
	testInstance = "orders-db"
	testHost     = "host-a"
	testDatabase = "db_orders"
)

var testNodes = []string{"orders-db-1", "orders-db-2"}

// Sizes of the harness's volume: key slots only, one or two servers, and
// servers holding the data-path fixtures (the image file is sparse).
const (
	keyVolumeMiB    = 32
	serverVolumeMiB = 256
	dataVolumeMiB   = 1024
)

// harness is a node agent served through Temporal's activity test
// environment, with the real Key Protect client and wrapper against an
// in-process emulator and its storage on a loop-mounted ext4 volume with
// the encrypt feature (skipped with fscrypttest.SkipMessage without root).
// Its cleanup shuts the agent down (servers stopped, fscrypt keys removed)
// before the volume is unmounted.
type harness struct {
	t        testing.TB
	ctx      context.Context
	vol      *fscrypttest.Vol
	emu      *emulatortest.Env
	operator *kp.Client
	policyID string
	rootKey  string
	dataDir  string // the agent's key slots
	agent    *Agent
	env      *testsuite.TestActivityEnvironment
	logs     *syncBuffer // every agent's log output
	// backupDir configures the agent's backup store; empty for the
	// key-slot tests (see newDataHarness).
	backupDir string
	// tap, when set before restart, sees every key the agent wraps.
	tap *dekTap
	// src is the serving primary of newDataHarness, and dbs the
	// connections to its databases.
	src serving
	dbs map[string]*pgx.Conn
	// builds counts the wrappers WrapperFor built.
	builds *atomic.Int64
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// newHarness is a harness for key-slot tests: a small volume, no server.
func newHarness(t testing.TB) *harness { return newHarnessOn(t, keyVolumeMiB) }

// newHarnessOn is a harness whose volume has sizeMiB.
func newHarnessOn(t testing.TB, sizeMiB int) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), vol: testVolume(t, fscrypttest.Options{SizeMiB: sizeMiB}),
		dataDir: t.TempDir(), logs: &syncBuffer{}, builds: &atomic.Int64{}}
	h.emu = emulatortest.Start(t, emulatortest.WithMemory())
	h.policyID = h.emu.AuthorizeService(t)
	h.operator = h.emu.OperatorClient(t)
	h.rootKey = h.createRootKey("orders-db-root")
	t.Cleanup(h.shutdown) // before the volume's unmount, after what tests register later
	h.restart()
	return h
}

// on returns h for subtest t of h's test: its failures and the cleanups
// of what it opens go to t, while the agent, its servers and the volume
// stay h's.
func (h *harness) on(t testing.TB) *harness {
	c := *h
	c.t, c.dbs = t, nil
	return &c
}

// shutdown takes the nodes down as a host shutting down does, closes the
// agent and fails the test if a server survived.
func (h *harness) shutdown() {
	if h.agent == nil { // the first agent never started: nothing runs
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.agent.Shutdown(ctx); err != nil {
		h.t.Errorf("shut the node agent down: %v", err)
	}
	h.agent.Close()
	requireNoServer(h.t, h.vol.Dir)
}

func (h *harness) createRootKey(name string) string {
	h.t.Helper()
	key, err := h.operator.CreateRootKey(h.ctx, name, nil)
	require.NoError(h.t, err)
	return key.ID
}

// keyVersion is the root key's current version, as the operator sees it.
func (h *harness) keyVersion() string {
	h.t.Helper()
	key, err := h.operator.GetKeyMetadata(h.ctx, h.rootKey)
	require.NoError(h.t, err)
	return key.KeyVersion.ID
}

// newAgent builds an agent on the harness's directories, as the worker
// main does, with the service identity's client.
func (h *harness) newAgent() *Agent {
	h.t.Helper()
	var w encryption.KeyWrapper = keyprotect.New(h.emu.ServiceClient(h.t))
	if h.tap != nil {
		h.tap.KeyWrapper = w
		w = h.tap
	}
	a, err := New(Config{Host: testHost, DataDir: h.dataDir, StorageDir: h.vol.Dir, Wrapper: w,
		WrapperFor: h.wrapperFor, BackupDir: h.backupDir,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(h.t, err)
	return a
}

// wrapperFor is the agent's Config.WrapperFor: the service identity's
// wrapper of another Key Protect instance of the emulator. It counts its
// calls in builds.
func (h *harness) wrapperFor(kpInstanceID string) (encryption.KeyWrapper, error) {
	h.builds.Add(1)
	return keyprotect.New(h.emu.KPClient(h.t, h.emu.Dev.ServiceAPIKey, kpInstanceID)), nil
}

// restart replaces the agent with a new one on the same directories, as a
// restarted process: the old one's DEKs are zeroized, while its servers
// and fscrypt keys stay (Close, not Shutdown). The activity environment is
// fresh.
func (h *harness) restart() {
	if h.agent != nil {
		h.agent.Close()
	}
	h.agent = h.newAgent()
	var suite testsuite.WorkflowTestSuite
	h.env = suite.NewTestActivityEnvironment()
	h.agent.Register(h.env)
}

// result runs activity with in and decodes its result.
func result[T any](h *harness, activity string, in any) (T, error) {
	h.t.Helper()
	var res T
	val, err := h.env.ExecuteActivity(activity, in)
	if err == nil && val != nil && val.HasValue() {
		require.NoError(h.t, val.Get(&res))
	}
	return res, err
}

func (h *harness) execute(activity string, in any) (contract.NodeReport, error) {
	h.t.Helper()
	return result[contract.NodeReport](h, activity, in)
}

func (h *harness) install(node string) (contract.NodeReport, error) {
	return h.installFor(testInstance, node)
}

func (h *harness) installFor(instance, node string) (contract.NodeReport, error) {
	return h.execute(contract.ActivityInstallKey, contract.InstallKeyInput{InstanceID: instance,
		NodeID: node, RootKeyID: h.rootKey, AAD: contract.NodeAAD(instance, node),
		ExpectedVersionID: h.keyVersion()})
}

func (h *harness) mustInstall(node string) contract.NodeReport {
	h.t.Helper()
	rep, err := h.install(node)
	require.NoError(h.t, err)
	return rep
}

func (h *harness) rewrap(node, target string) (contract.NodeReport, error) {
	return h.execute(contract.ActivityRewrapKey, contract.RewrapKeyInput{InstanceID: testInstance,
		NodeID: node, RootKeyID: h.rootKey, AAD: contract.NodeAAD(testInstance, node), TargetVersionID: target})
}

func (h *harness) drop(node string) error { return h.dropFor(testInstance, node) }

func (h *harness) dropFor(instance, node string) error {
	_, err := h.env.ExecuteActivity(contract.ActivityDropKeySlot,
		contract.DropKeySlotInput{InstanceID: instance, NodeID: node})
	return err
}

func (h *harness) status(node string) contract.NodeReport { return h.statusOf(testInstance, node) }

func (h *harness) statusOf(instance, node string) contract.NodeReport {
	h.t.Helper()
	rep, err := h.execute(contract.ActivityReportStatus, contract.ReportStatusInput{InstanceID: instance, NodeID: node})
	require.NoError(h.t, err)
	return rep
}

// liveDEK is the node's DEK in the agent's memory, or nil.
func (h *harness) liveDEK(node string) *liveKey {
	k, ok := h.agent.keys.get(nodeRef{InstanceID: testInstance, NodeID: node})
	if !ok {
		return nil
	}
	return &k
}

// dekBytes copies the node's plaintext DEK, for tests that prove it is
// nowhere else.
func (h *harness) dekBytes(node string) []byte {
	h.t.Helper()
	k := h.liveDEK(node)
	require.NotNil(h.t, k, "no DEK in memory for %s", node)
	var out []byte
	require.NoError(h.t, k.dek.WithBytes(func(b []byte) error { out = bytes.Clone(b); return nil }))
	return out
}

// requireAbsent fails if data holds secret raw, in hex or in base64.
func requireAbsent(t testing.TB, data, secret []byte, where string) {
	t.Helper()
	for _, form := range [][]byte{secret, []byte(hex.EncodeToString(secret)),
		[]byte(base64.StdEncoding.EncodeToString(secret)), []byte(base64.RawStdEncoding.EncodeToString(secret)),
		[]byte(base64.RawURLEncoding.EncodeToString(secret))} {
		require.False(t, bytes.Contains(data, form), "plaintext secret found in %s", where)
	}
}

func (h *harness) slotFile(node string) []byte {
	h.t.Helper()
	raw, err := os.ReadFile(slotPath(h.dataDir, testInstance, node))
	require.NoError(h.t, err)
	return raw
}

func (h *harness) loadSlot(node string) Slot {
	h.t.Helper()
	slot, err := h.agent.slots.Load(testInstance, node)
	require.NoError(h.t, err)
	return slot
}

func (h *harness) rotate() string {
	h.t.Helper()
	before := h.keyVersion()
	require.NoError(h.t, h.operator.Rotate(h.ctx, h.rootKey, ""))
	after := h.keyVersion()
	require.NotEqual(h.t, before, after)
	return after
}

func (h *harness) stats(op string) int64 { return h.emu.Server.Stats()[op] }
