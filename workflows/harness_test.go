package workflows

import (
	"context"
	"errors"
	"log/slog"
	"slices"
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
	contract.ActivityPrepareApproval:          stub[contract.PrepareApprovalInput, contract.PrepareApprovalResult](),
	contract.ActivityVerifyApproval:           stub[contract.VerifyApprovalInput, contract.ShredApproval](),
	contract.ActivityDeleteRootKey:            stub[contract.DeleteRootKeyInput, contract.DeleteRootKeyResult](),
	contract.ActivityProveKeyDestroyed:        stub[contract.ProveKeyDestroyedInput, contract.ShredProof](),
	contract.ActivityMarkBackupsUnrecoverable: stub[contract.MarkBackupsUnrecoverableInput, contract.MarkBackupsUnrecoverableResult](),
	contract.ActivityWriteShredCertificate:    stub[contract.WriteShredCertificateInput, contract.WriteShredCertificateResult](),
	contract.ActivityBackupDatabase:           stub[contract.BackupDatabaseInput, contract.BackupDatabaseResult](),
	contract.ActivityRestoreDatabase:          stub[contract.RestoreDatabaseInput, contract.RestoreDatabaseResult](),
	contract.ActivityRewrapBackupKey:          stub[contract.RewrapBackupKeyInput, contract.RewrapBackupKeyResult](),
	contract.ActivityShredKeySlot:             stub[contract.ShredKeySlotInput, contract.NodeReport](),
	contract.ActivityStartPrimary:             stub[contract.StartPrimaryInput, contract.StartPrimaryResult](),
	contract.ActivityStartStandby:             stub[contract.StartStandbyInput, contract.NodeReport](),
	contract.ActivitySuspendNode:              stub[contract.SuspendNodeInput, contract.NodeReport](),
	contract.ActivityResumeNode:               stub[contract.ResumeNodeInput, contract.NodeReport](),
	contract.ActivityRecordNodeReports:        stub[contract.RecordNodeReportsInput, contract.RecordNodeReportsResult](),
	contract.ActivityRegisterHost:             stubNoResult[contract.RegisterHostInput](),

	contract.ActivityAcquireInstanceOperation: stub[contract.AcquireInstanceOperationInput, contract.AcquireInstanceOperationResult](),
	contract.ActivityReleaseInstanceOperation: stubNoResult[contract.ReleaseInstanceOperationInput](),
	contract.ActivityMarkNeedsAttention:       stubNoResult[contract.MarkNeedsAttentionInput](),
	contract.ActivityClearNeedsAttention:      stubNoResult[contract.ClearNeedsAttentionInput](),
	contract.ActivityCheckKPInstance:          stubNoResult[contract.CheckKPInstanceInput](),

	contract.ActivityListReconcileTargets: stub[contract.ListReconcileTargetsInput, contract.ListReconcileTargetsResult](),
	contract.ActivityReadReconcileKey:     stub[contract.ReadReconcileKeyInput, contract.KPKey](),
	contract.ActivityRecordReconcile:      stubNoResult[contract.RecordReconcileInput](),
	contract.ActivityRecordSuspension:     stubNoResult[contract.RecordSuspensionInput](),
}

// lockCalls are the activities allCalls leaves out: the instance lock
// every workflow takes and releases (see lock_test.go), and the record of
// who suspended an instance that suspend and resume keep (see
// reconcile_test.go, suspensions).
var lockCalls = []string{contract.ActivityAcquireInstanceOperation, contract.ActivityReleaseInstanceOperation,
	contract.ActivityRecordSuspension}

// harness is a test workflow environment that records which activities
// started, in order, and on which task queue.
type harness struct {
	testsuite.WorkflowTestSuite
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu      sync.Mutex
	started []string            // activity names in start order
	queues  map[string][]string // task queues by activity name
	// attempts holds the start-to-close timeout of every start, by
	// activity name.
	attempts map[string][]time.Duration
	dropped  []string              // node ids whose key slot was dropped
	recorded []contract.NodeReport // reports the workflow recorded
	// recordFails, when set, decides whether a RecordNodeReports call
	// fails, and with what; nothing is recorded then.
	recordFails func(contract.RecordNodeReportsInput) error
	// unknown is what RecordNodeReports names as reports of unknown nodes.
	unknown []string
	// lockBusy, when set, is the error of AcquireInstanceOperation;
	// locked lists the instances locked and not released.
	lockBusy error
	locked   []string
	// attention lists the marks of failed compensations.
	attention []contract.MarkNeedsAttentionInput
	// suspensions lists the records of who suspended an instance.
	suspensions []contract.RecordSuspensionInput
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, queues: map[string][]string{}, attempts: map[string][]time.Duration{}}
	h.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	h.env = h.NewTestWorkflowEnvironment()
	h.env.SetStartTime(t0)
	Register(h.env)
	for name, fn := range stubs {
		h.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	h.recordReports()
	h.mockLocks()
	h.on(contract.ActivityCheckKPInstance, nil)
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.started = append(h.started, info.ActivityType.Name)
		h.queues[info.ActivityType.Name] = append(h.queues[info.ActivityType.Name], info.TaskQueue)
		h.attempts[info.ActivityType.Name] = append(h.attempts[info.ActivityType.Name], info.StartToCloseTimeout)
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
		case contract.StartStandbyInput:
			return in.NodeID == nodeID
		case contract.StartPrimaryInput:
			return in.NodeID == nodeID
		case contract.SuspendNodeInput:
			return in.NodeID == nodeID
		case contract.ResumeNodeInput:
			return in.NodeID == nodeID
		case contract.ReportStatusInput:
			return in.NodeID == nodeID
		}
		return false
	})
	return h.env.OnActivity(activity, mock.Anything, match).Return(ret...)
}

// allCalls returns every activity name started so far, in start order,
// but for the instance lock's.
func (h *harness) allCalls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, name := range h.started {
		if !slices.Contains(lockCalls, name) {
			out = append(out, name)
		}
	}
	return out
}

// callsBefore returns every activity name started before the first start
// of activity, in start order.
func (h *harness) callsBefore(activity string) []string {
	all := h.allCalls()
	for i, name := range all {
		if name == activity {
			return all[:i]
		}
	}
	return all
}

// calls is allCalls but for the recording of node reports after every
// node step (see recordedReports).
func (h *harness) calls() []string {
	return slices.DeleteFunc(h.allCalls(), func(name string) bool { return name == contract.ActivityRecordNodeReports })
}

// mockLocks mocks the instance lock: acquiring fails lockBusy when set,
// and locked tracks what is held; a compensation's attention mark is
// remembered.
func (h *harness) mockLocks() {
	h.on(contract.ActivityAcquireInstanceOperation, func(_ context.Context, in contract.AcquireInstanceOperationInput) (
		contract.AcquireInstanceOperationResult, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.lockBusy != nil {
			return contract.AcquireInstanceOperationResult{}, h.lockBusy
		}
		if in.ParentWorkflowID != "" && slices.Contains(h.locked, in.InstanceID) {
			return contract.AcquireInstanceOperationResult{UnderParent: true}, nil
		}
		h.locked = append(h.locked, in.InstanceID)
		return contract.AcquireInstanceOperationResult{}, nil
	})
	h.on(contract.ActivityReleaseInstanceOperation, func(_ context.Context, in contract.ReleaseInstanceOperationInput) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.locked = slices.DeleteFunc(h.locked, func(id string) bool { return id == in.InstanceID })
		return nil
	})
	h.on(contract.ActivityMarkNeedsAttention, func(_ context.Context, in contract.MarkNeedsAttentionInput) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.attention = append(h.attention, in)
		return nil
	})
	h.on(contract.ActivityRecordSuspension, func(_ context.Context, in contract.RecordSuspensionInput) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.suspensions = append(h.suspensions, in)
		return nil
	})
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
	h.on(contract.ActivityDeregisterInstance, nil)
	h.on(contract.ActivityMarkInstanceFailed, nil)
}

// recordReports mocks the recording of node reports to succeed and
// remembers every report recorded.
func (h *harness) recordReports() {
	h.on(contract.ActivityRecordNodeReports, func(_ context.Context, in contract.RecordNodeReportsInput) (
		contract.RecordNodeReportsResult, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.recordFails != nil {
			if err := h.recordFails(in); err != nil {
				return contract.RecordNodeReportsResult{}, err
			}
		}
		h.recorded = append(h.recorded, in.Reports...)
		return contract.RecordNodeReportsResult{Reports: in.Reports, Unknown: h.unknown}, nil
	})
}

// recordedReports returns the reports the workflow recorded.
func (h *harness) recordedReports() []contract.NodeReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]contract.NodeReport(nil), h.recorded...)
}

// mockServers mocks the primary's and the standbys' server starts to
// succeed, each reporting active under version.
func (h *harness) mockServers(version string) {
	h.on(contract.ActivityStartPrimary, func(_ context.Context, in contract.StartPrimaryInput) (contract.StartPrimaryResult, error) {
		return contract.StartPrimaryResult{Report: primaryReport(in.NodeID, version),
			Primary: replicationSource(in.InstanceID, in.RootKeyID, in.KPInstanceID)}, nil
	})
	h.on(contract.ActivityStartStandby, func(_ context.Context, in contract.StartStandbyInput) (contract.NodeReport, error) {
		return standbyReport(in.NodeID, version), nil
	})
}

// replicationSource is what the fixture primary of instance hands its
// standbys.
func replicationSource(instance, rootKey, kpInstance string) contract.ReplicationSource {
	return contract.ReplicationSource{Address: "127.0.0.1:5544", ReplicationWrapped: []byte("wrapped"),
		AAD: contract.ReplicationAAD(instance), RootKeyID: rootKey, KPInstanceID: kpInstance}
}

// primaryReport is the report of a fixture node serving as primary under version.
func primaryReport(nodeID, version string) contract.NodeReport {
	r := report(nodeID, hostOf(nodeID), version)
	r.Role, r.ServerUp = contract.RolePrimary, true
	return r
}

// standbyReport is the report of a fixture node streaming as standby under version.
func standbyReport(nodeID, version string) contract.NodeReport {
	r := report(nodeID, hostOf(nodeID), version)
	r.Role, r.ServerUp, r.Replication = contract.RoleStandby, true, contract.ReplicationStreaming
	return r
}

// pending is the report of a node whose key InstallKey installed.
func pending(nodeID, host, version string) contract.NodeReport {
	r := report(nodeID, host, version)
	r.State = contract.KeyPending
	return r
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
