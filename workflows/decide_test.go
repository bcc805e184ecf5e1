package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

// outcomes builds a node run over the fixture nodes: a nil error means the
// node reported active under version.
func outcomes(version string, first int, errs ...error) nodeRun {
	run := nodeRun{first: first}
	for i, n := range nodes {
		o := nodeOutcome{node: n, err: errs[i]}
		if o.err == nil {
			o.report = report(n.NodeID, n.Host, version)
		}
		run.outcomes = append(run.outcomes, o)
	}
	return run
}

// recordFailed is run whose reports the catalog refused.
func recordFailed(run nodeRun) nodeRun {
	run.recordErr = contract.NewError(contract.ErrTypeInvalidInput, "record key status of node orders-db-1", nil)
	return run
}

func TestNodeStepError_Cases(t *testing.T) {
	failed := typedErr(contract.ErrTypeKeySuspended)
	canceled := temporal.NewCanceledError()
	tests := []struct {
		name     string
		run      nodeRun
		wantType string
		wantText string
	}{
		{"all reported", outcomes("v1", -1, nil, nil, nil), "", ""},
		{"all reported, recording failed", recordFailed(outcomes("v1", -1, nil, nil, nil)),
			contract.ErrTypeInvalidInput, "record key status"},
		{"a node failure wins over the recording", recordFailed(outcomes("v1", 1, nil, failed, canceled)),
			contract.ErrTypeKeySuspended, "fixture failure"},
		{"first failure returned as is", outcomes("v1", 1, nil, failed, canceled),
			contract.ErrTypeKeySuspended, "fixture failure"},
		{"failure before a later deadline", outcomes("v1", 0, failed, scheduleToStart(), nil),
			contract.ErrTypeKeySuspended, "fixture failure"},
		{"deadline names every node without report", outcomes("v1", 1, nil, scheduleToStart(), canceled),
			contract.ErrTypeNodeDeadline,
			"node orders-db-2 (host host-b), node orders-db-3 (host host-a) did not report within the 1h0m0s node deadline: " +
				"start the node agent for host host-b, host-a and hint"},
		{"schedule-to-close is a deadline too",
			outcomes("v1", 0, temporal.NewTimeoutError(enumScheduleToClose, nil), nil, nil),
			contract.ErrTypeNodeDeadline, "node orders-db-1 (host host-a) did not report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := nodeStepError(tt.run, instanceID, time.Hour, "hint")
			if tt.wantType == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, tt.wantType, contract.ErrorType(err))
			require.ErrorContains(t, err, tt.wantText)
		})
	}
}

func TestCheckReports_Cases(t *testing.T) {
	ok := outcomes("v2", -1, nil, nil, nil)
	require.NoError(t, checkReports(ok, instanceID, rootKeyID, "v2", "hint"))

	stale := outcomes("v2", -1, nil, nil, nil)
	stale.outcomes[0].report.KeyVersionID = "v1"
	suspended := outcomes("v2", -1, nil, nil, nil)
	suspended.outcomes[2].report.State = contract.KeySuspended
	for name, run := range map[string]nodeRun{"stale version": stale, "suspended": suspended} {
		t.Run(name, func(t *testing.T) {
			err := checkReports(run, instanceID, rootKeyID, "v2", "re-run it")
			require.Equal(t, contract.ErrTypeNodeKeyMismatch, contract.ErrorType(err))
			require.ErrorContains(t, err, "check whether root key orders-root was rotated or disabled meanwhile, "+
				"and `starter status` for each node's server, then re-run it")
		})
	}
}

func TestCheckReportsIn_WantsTheGivenStateAndNamesTheDetail(t *testing.T) {
	installed := outcomes("v1", -1, nil, nil, nil)
	for i := range installed.outcomes {
		installed.outcomes[i].report.State = contract.KeyPending
	}
	require.NoError(t, checkReportsIn(installed, contract.KeyPending, instanceID, rootKeyID, "v1", "hint"))
	require.Error(t, checkReports(installed, instanceID, rootKeyID, "v1", "hint"), "pending is not active")

	installed.outcomes[1].report.State = contract.KeyError
	installed.outcomes[1].report.Detail = "storage: no fscrypt support on /var/lib/byokflow"
	err := checkReportsIn(installed, contract.KeyPending, instanceID, rootKeyID, "v1", "hint")
	require.Equal(t, contract.ErrTypeNodeKeyMismatch, contract.ErrorType(err))
	require.ErrorContains(t, err, `node orders-db-2 (host host-b) reported "error" under key version "v1" `+
		`(storage: no fscrypt support on /var/lib/byokflow), want "pending" under key version "v1"`)
	require.NotContains(t, err.Error(), "orders-db-1")
}

func TestSlotsToDrop_SkipsNodesThatNeverRan(t *testing.T) {
	run := outcomes("v1", 1, nil, typedErr(contract.ErrTypeKeySlotConflict), scheduleToStart())
	require.Equal(t, nodes[:2], slotsToDrop(run))

	run = outcomes("v1", 0, temporal.NewCanceledError(), nil, nil)
	require.Equal(t, nodes[1:], slotsToDrop(run))

	require.Empty(t, slotsToDrop(outcomes("v1", 0, scheduleToStart(), scheduleToStart(), scheduleToStart())))
}

func TestCheckPlacement_Cases(t *testing.T) {
	tests := []struct {
		name     string
		nodes    []contract.NodePlacement
		wantType string
	}{
		{"fixture", nodes, ""},
		{"none", nil, contract.ErrTypeNoNodeHosts},
		{"no host", []contract.NodePlacement{{NodeID: "n1"}}, contract.ErrTypeInvalidInput},
		{"no id", []contract.NodePlacement{{Host: "h"}}, contract.ErrTypeInvalidInput},
		{"duplicate", []contract.NodePlacement{nodes[0], nodes[1], nodes[0]}, contract.ErrTypeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.wantType, contract.ErrorType(checkPlacement(instanceID, tt.nodes)))
		})
	}
}

func TestCheckRotatable_Cases(t *testing.T) {
	tests := map[contract.InstanceState]string{
		contract.InstanceActive:  "",
		contract.InstancePending: contract.ErrTypeInstanceNotActive,
		contract.InstanceFailed:  contract.ErrTypeInstanceNotActive,
	}
	for state, want := range tests {
		t.Run(string(state), func(t *testing.T) {
			err := checkRotatable(instanceID, contract.LoadInstanceResult{State: state, Nodes: nodes})
			require.Equal(t, want, contract.ErrorType(err))
		})
	}
	err := checkRotatable(instanceID, contract.LoadInstanceResult{State: contract.InstanceActive})
	require.Equal(t, contract.ErrTypeNoNodeHosts, contract.ErrorType(err))
}

func TestProgressOfError_Cases(t *testing.T) {
	require.Equal(t, contract.ProgressTimedOut, progressOfError(scheduleToStart()))
	require.Equal(t, contract.ProgressCanceled, progressOfError(temporal.NewCanceledError()))
	require.Equal(t, contract.ProgressFailed, progressOfError(typedErr(contract.ErrTypeKeyDestroyed)))
	require.Equal(t, contract.ProgressFailed, progressOfError(errors.New("boom")))
	require.Equal(t, contract.ProgressFailed,
		progressOfError(temporal.NewTimeoutError(enumStartToClose, nil)), "a start-to-close timeout ran on the node")
}

func TestErrorDetail_UnwrapsApplicationMessage(t *testing.T) {
	require.Equal(t, "fixture failure of type KeyDestroyed", errorDetail(typedErr(contract.ErrTypeKeyDestroyed)))
	require.Equal(t, "boom", errorDetail(errors.New("boom")))
}
