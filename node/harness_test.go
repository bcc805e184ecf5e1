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

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/catalog/catalogtest"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator/emulatortest"
	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/encryption/keyprotect"
)

const (
	testInstance = "orders-db"
	testHost     = "host-a"
)

var testNodes = []string{"orders-db-1", "orders-db-2"}

// harness is a node agent served through Temporal's activity test
// environment, with the real Key Protect client and wrapper against an
// in-process emulator, and a real catalog (tier 3: skipped without
// BYOK_TEST_DATABASE).
type harness struct {
	t        *testing.T
	ctx      context.Context
	cat      *catalog.Catalog
	emu      *emulatortest.Env
	operator *kp.Client
	policyID string
	rootKey  string
	dataDir  string
	agent    *Agent
	env      *testsuite.TestActivityEnvironment
	logs     *syncBuffer // every agent's log output
	// backupDir and databaseURL configure the agent's data path; empty for
	// the key-slot tests (see newDataHarness).
	backupDir, databaseURL string
	// builds counts the wrappers WrapperFor built.
	builds atomic.Int64
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

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), cat: catalogtest.Open(t), dataDir: t.TempDir(),
		logs: &syncBuffer{}}
	h.emu = emulatortest.Start(t, emulatortest.WithMemory())
	h.policyID = h.emu.AuthorizeService(t)
	h.operator = h.emu.OperatorClient(t)
	h.rootKey = h.createRootKey("orders-db-root")
	_, err := h.cat.CreateInstance(h.ctx, catalog.Instance{ID: testInstance, CRN: "crn:v1:test:" + testInstance,
		KPInstanceID: h.emu.Dev.KPInstanceID, RootKeyID: h.rootKey, KeyVersionAtCreate: h.keyVersion(),
		DatabaseName: "db_orders", NodeCount: len(testNodes), WorkflowID: "provision-orders-db"})
	require.NoError(t, err)
	var nodes []catalog.Node
	for i, n := range testNodes {
		nodes = append(nodes, catalog.Node{NodeID: n, Host: testHost, TaskQueue: contract.NodeTaskQueue(testHost), Ordinal: i})
	}
	require.NoError(t, h.cat.AddNodes(h.ctx, testInstance, nodes))
	h.restart()
	return h
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

// newAgent builds an agent on the harness's data directory, as the worker
// main does, with the service identity's client.
func (h *harness) newAgent() *Agent {
	h.t.Helper()
	a, err := New(Config{Host: testHost, DataDir: h.dataDir,
		Wrapper: keyprotect.New(h.emu.ServiceClient(h.t)), WrapperFor: h.wrapperFor, Catalog: h.cat,
		BackupDir: h.backupDir, DatabaseURL: h.databaseURL,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(h.t, err)
	h.t.Cleanup(a.Close)
	return a
}

// wrapperFor is the agent's Config.WrapperFor: the service identity's
// wrapper of another Key Protect instance of the emulator. It counts its
// calls in builds.
func (h *harness) wrapperFor(kpInstanceID string) (encryption.KeyWrapper, error) {
	h.builds.Add(1)
	return keyprotect.New(h.emu.KPClient(h.t, h.emu.Dev.ServiceAPIKey, kpInstanceID)), nil
}

// restart replaces the agent with a new one on the same data directory (the
// old one's keys are zeroized) and a fresh activity environment.
func (h *harness) restart() {
	if h.agent != nil {
		h.agent.Close()
	}
	h.agent = h.newAgent()
	var suite testsuite.WorkflowTestSuite
	h.env = suite.NewTestActivityEnvironment()
	h.agent.Register(h.env)
}

func (h *harness) execute(activity string, in any) (contract.NodeReport, error) {
	h.t.Helper()
	val, err := h.env.ExecuteActivity(activity, in)
	var rep contract.NodeReport
	if err == nil && val != nil && val.HasValue() {
		require.NoError(h.t, val.Get(&rep))
	}
	return rep, err
}

func (h *harness) install(node string) (contract.NodeReport, error) {
	return h.execute(contract.ActivityInstallKey, contract.InstallKeyInput{InstanceID: testInstance,
		NodeID: node, RootKeyID: h.rootKey, AAD: contract.NodeAAD(testInstance, node),
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

func (h *harness) drop(node string) error {
	_, err := h.env.ExecuteActivity(contract.ActivityDropKeySlot,
		contract.DropKeySlotInput{InstanceID: testInstance, NodeID: node})
	return err
}

func (h *harness) status(node string) contract.NodeReport {
	h.t.Helper()
	rep, err := h.execute(contract.ActivityReportStatus, contract.ReportStatusInput{InstanceID: testInstance, NodeID: node})
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

// requireAbsent fails if data holds dek raw, in hex or in base64.
func requireAbsent(t *testing.T, data, dek []byte, where string) {
	t.Helper()
	for _, form := range [][]byte{dek, []byte(hex.EncodeToString(dek)),
		[]byte(base64.StdEncoding.EncodeToString(dek)), []byte(base64.RawStdEncoding.EncodeToString(dek))} {
		require.False(t, bytes.Contains(data, form), "plaintext DEK found in %s", where)
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

// latest is the catalog's latest report of node.
func (h *harness) latest(node string) catalog.NodeStatus {
	h.t.Helper()
	all, err := h.cat.LatestStatus(h.ctx, testInstance)
	require.NoError(h.t, err)
	for _, s := range all {
		if s.NodeID == node {
			return s
		}
	}
	require.FailNow(h.t, "node not in catalog", node)
	return catalog.NodeStatus{}
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
