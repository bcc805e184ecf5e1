package workflows

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/byokflow/byokflow/contract"
)

// Fixture ids shared by the workflow tests.
const (
	instanceID = "orders-db"
	rootKeyID  = "orders-root"
	kpInstance = "9b7c1a2e-1111-4a2b-8c3d-0123456789ab"
	instCRN    = "crn:v1:bluemix:public:databases-for-postgresql:us-south:a/acct:orders-db::"
)

var (
	t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	// nodes puts two nodes on host-a so that hosts are named once.
	nodes = []contract.NodePlacement{
		{NodeID: "orders-db-1", Host: "host-a", TaskQueue: contract.NodeTaskQueue("host-a")},
		{NodeID: "orders-db-2", Host: "host-b", TaskQueue: contract.NodeTaskQueue("host-b")},
		{NodeID: "orders-db-3", Host: "host-a", TaskQueue: contract.NodeTaskQueue("host-a")},
	}
	errNotMocked = errors.New("activity not mocked in this test")
)

// stub is a registered activity that fails unless a test mocks it: the
// workflows call activities by name, so tests register stubs under the
// contract names and mock them with OnActivity.
func stub[In, Out any]() func(context.Context, In) (Out, error) {
	return func(context.Context, In) (Out, error) { var out Out; return out, errNotMocked }
}

func stubNoResult[In any]() func(context.Context, In) error {
	return func(context.Context, In) error { return errNotMocked }
}

var stubs = map[string]any{
	contract.ActivityCheckServiceAuthorization: stub[contract.CheckServiceAuthorizationInput, contract.CheckServiceAuthorizationResult](),
	contract.ActivityValidateRootKey:           stub[contract.ValidateRootKeyInput, contract.ValidateRootKeyResult](),
	contract.ActivityCreateInstanceRecord:      stub[contract.CreateInstanceRecordInput, contract.CreateInstanceRecordResult](),
	contract.ActivityMarkInstanceFailed:        stubNoResult[contract.MarkInstanceFailedInput](),
	contract.ActivityRegisterInstance:          stubNoResult[contract.RegisterInstanceInput](),
	contract.ActivityDeregisterInstance:        stubNoResult[contract.DeregisterInstanceInput](),
	contract.ActivityCreateInstanceDatabase:    stubNoResult[contract.CreateInstanceDatabaseInput](),
	contract.ActivityDropInstanceDatabase:      stubNoResult[contract.DropInstanceDatabaseInput](),
	contract.ActivityMarkInstanceActive:        stubNoResult[contract.MarkInstanceActiveInput](),
	contract.ActivityLoadInstance:              stub[contract.LoadInstanceInput, contract.LoadInstanceResult](),
	contract.ActivityRotateKey:                 stub[contract.RotateKeyInput, contract.RotateKeyResult](),
	contract.ActivityReadKeyVersion:            stub[contract.ReadKeyVersionInput, contract.ReadKeyVersionResult](),
	contract.ActivityRecordKeyVersion:          stubNoResult[contract.RecordKeyVersionInput](),
	contract.ActivityInstallKey:                stub[contract.InstallKeyInput, contract.NodeReport](),
	contract.ActivityDropKeySlot:               stubNoResult[contract.DropKeySlotInput](),
	contract.ActivityRewrapKey:                 stub[contract.RewrapKeyInput, contract.NodeReport](),
	contract.ActivityReportStatus:              stub[contract.ReportStatusInput, contract.NodeReport](),

	contract.ActivityLoadBackup:               stub[contract.LoadBackupInput, contract.BackupRecord](),
	contract.ActivityCreateBackupRecord:       stubNoResult[contract.CreateBackupRecordInput](),
	contract.ActivityCompleteBackupRecord:     stubNoResult[contract.CompleteBackupRecordInput](),
	contract.ActivityFailBackupRecord:         stubNoResult[contract.FailBackupRecordInput](),
	contract.ActivityCheckBackupRestorable:    stub[contract.CheckBackupRestorableInput, contract.CheckBackupRestorableResult](),
	contract.ActivityListBackupKeys:           stub[contract.ListBackupKeysInput, contract.ListBackupKeysResult](),
	contract.ActivityUpdateBackupKey:          stubNoResult[contract.UpdateBackupKeyInput](),
	contract.ActivityCheckShredGuards:         stub[contract.CheckShredGuardsInput, contract.CheckShredGuardsResult](),
	contract.ActivityMarkInstanceShredding:    stubNoResult[contract.MarkInstanceShreddingInput](),
	contract.ActivityMarkInstanceShredded:     stubNoResult[contract.MarkInstanceShreddedInput](),
	contract.ActivityGetKeyState:              stub[contract.GetKeyStateInput, contract.RootKeyState](),
	contract.ActivityWrapProbe:                stub[contract.WrapProbeInput, contract.WrapProbeResult](),
	contract.ActivityDeleteRootKey:            stub[contract.DeleteRootKeyInput, contract.DeleteRootKeyResult](),
	contract.ActivityProveKeyDestroyed:        stub[contract.ProveKeyDestroyedInput, contract.ShredProof](),
	contract.ActivityMarkBackupsUnrecoverable: stub[contract.MarkBackupsUnrecoverableInput, contract.MarkBackupsUnrecoverableResult](),
	contract.ActivityWriteShredCertificate:    stub[contract.WriteShredCertificateInput, contract.WriteShredCertificateResult](),
	contract.ActivityBackupDatabase:           stub[contract.BackupDatabaseInput, contract.BackupDatabaseResult](),
	contract.ActivityRestoreDatabase:          stub[contract.RestoreDatabaseInput, contract.RestoreDatabaseResult](),
	contract.ActivityRewrapBackupKey:          stub[contract.RewrapBackupKeyInput, contract.RewrapBackupKeyResult](),
	contract.ActivityShredKeySlot:             stub[contract.ShredKeySlotInput, contract.NodeReport](),
}

// harness is a test workflow environment that records which activities
// started, in order, and on which task queue.
type harness struct {
	testsuite.WorkflowTestSuite
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu      sync.Mutex
	started []string            // activity names in start order
	queues  map[string][]string // task queues by activity name
	dropped []string            // node ids whose key slot was dropped
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, queues: map[string][]string{}}
	h.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	h.env = h.NewTestWorkflowEnvironment()
	h.env.SetStartTime(t0)
	Register(h.env)
	for name, fn := range stubs {
		h.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.started = append(h.started, info.ActivityType.Name)
		h.queues[info.ActivityType.Name] = append(h.queues[info.ActivityType.Name], info.TaskQueue)
	})
	return h
}

// on mocks every call of activity; earlier mocks win over later ones, so a
// test registers its special cases before the defaults.
func (h *harness) on(activity string, ret ...any) *testsuite.MockCallWrapper {
	return h.env.OnActivity(activity, mock.Anything, mock.Anything).Return(ret...)
}

// onNode mocks activity for one node only.
func (h *harness) onNode(activity, nodeID string, ret ...any) *testsuite.MockCallWrapper {
	match := mock.MatchedBy(func(in any) bool {
		switch in := in.(type) {
		case contract.InstallKeyInput:
			return in.NodeID == nodeID
		case contract.RewrapKeyInput:
			return in.NodeID == nodeID
		case contract.ShredKeySlotInput:
			return in.NodeID == nodeID
		}
		return false
	})
	return h.env.OnActivity(activity, mock.Anything, match).Return(ret...)
}

// calls returns the activity names started so far.
func (h *harness) calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.started...)
}

func (h *harness) droppedNodes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.dropped...)
}

// mockCompensations mocks every compensation to succeed, recording dropped slots.
func (h *harness) mockCompensations() {
	h.on(contract.ActivityDropKeySlot, func(_ context.Context, in contract.DropKeySlotInput) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.dropped = append(h.dropped, in.NodeID)
		return nil
	})
	h.on(contract.ActivityDropInstanceDatabase, nil)
	h.on(contract.ActivityDeregisterInstance, nil)
	h.on(contract.ActivityMarkInstanceFailed, nil)
}

// report is an active report of a node under version.
func report(nodeID, host, version string) contract.NodeReport {
	return contract.NodeReport{InstanceID: instanceID, NodeID: nodeID, Host: host,
		RootKeyID: rootKeyID, KeyVersionID: version, State: contract.KeyActive,
		KeyCheckValue: "kcv-" + nodeID, ReportedAt: t0}
}

// hostOf returns the fixture host of nodeID.
func hostOf(nodeID string) string {
	for _, n := range nodes {
		if n.NodeID == nodeID {
			return n.Host
		}
	}
	return ""
}

// workflowErrType runs past a finished workflow and returns its error type.
func (h *harness) workflowErrType() string {
	h.t.Helper()
	require.True(h.t, h.env.IsWorkflowCompleted())
	err := h.env.GetWorkflowError()
	require.Error(h.t, err)
	return contract.ErrorType(err)
}
