package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

func TestScheduleOptions_SkipOverlapPauseOnFailureAndSearchAttributes(t *testing.T) {
	s := &scheduleSpec{every: 20 * time.Second, jitter: -1, catchup: time.Hour}
	require.NoError(t, s.check("schedule rotate"))
	require.Equal(t, 2*time.Second, s.jitter, "a tenth of --every")
	in := contract.FleetRotateInput{InstanceIDs: []string{"orders"}}
	opts := scheduleTarget{id: "schedule-rotate-orders", workflow: contract.WorkflowFleetRotate, instanceID: "orders",
		opAttr: contract.OperationFleetRotate, input: in}.options(s)

	require.Equal(t, enums.SCHEDULE_OVERLAP_POLICY_SKIP, opts.Overlap)
	require.True(t, opts.PauseOnFailure)
	require.Equal(t, time.Hour, opts.CatchupWindow)
	require.Equal(t, []client.ScheduleIntervalSpec{{Every: 20 * time.Second}}, opts.Spec.Intervals)
	for _, attrs := range []temporal.SearchAttributes{opts.TypedSearchAttributes,
		opts.Action.(*client.ScheduleWorkflowAction).TypedSearchAttributes} {
		got, ok := attrs.GetKeyword(contract.InstanceIDKey)
		require.True(t, ok)
		require.Equal(t, "orders", got)
		got, _ = attrs.GetKeyword(contract.OperationKey)
		require.Equal(t, contract.OperationFleetRotate, got)
	}
	act := opts.Action.(*client.ScheduleWorkflowAction)
	require.Equal(t, contract.ControlTaskQueue, act.TaskQueue)
	require.Equal(t, []any{in}, act.Args)
}

func TestScheduleSpec_Check(t *testing.T) {
	require.Error(t, (&scheduleSpec{every: time.Millisecond, catchup: time.Hour}).check("x"))
	require.NoError(t, (&scheduleSpec{cron: "0 3 * * *", catchup: time.Hour}).check("x"))
	require.Error(t, (&scheduleSpec{every: time.Hour, catchup: time.Second}).check("x"))
	s := &scheduleSpec{every: 2160 * time.Hour, jitter: -1, catchup: time.Hour}
	require.NoError(t, s.check("x"))
	require.Equal(t, 10*time.Minute, s.jitter, "at most 10m")
}

func TestParseScheduleID_BeforeOrAfterFlags(t *testing.T) {
	for _, args := range [][]string{{"schedule-x", "--json"}, {"--json", "schedule-x"}} {
		fs := flag.NewFlagSet("schedule describe", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		asJSON := fs.Bool("json", false, "")
		id, err := parseScheduleID(fs, args)
		require.NoError(t, err)
		require.Equal(t, "schedule-x", id)
		require.True(t, *asJSON)
	}
	fs := flag.NewFlagSet("schedule describe", flag.ContinueOnError)
	_, err := parseScheduleID(fs, nil)
	require.ErrorContains(t, err, "give the schedule id")
}

func TestScheduleRotate_NeedsOneTarget(t *testing.T) {
	out, errOut := io.Discard, io.Discard
	require.Equal(t, 2, run(t.Context(), []string{"schedule", "rotate", "--every", "1h"}, out, errOut))
	require.Equal(t, 2, run(t.Context(), []string{"schedule", "rotate", "--all", "--root-key", "k1"}, out, errOut))
	require.Equal(t, 2, run(t.Context(), []string{"keys", "policy", "--root-key", "k1", "--rotation-months", "13"}, out, errOut))
}
