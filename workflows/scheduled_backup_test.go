package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

const keep = 168 * time.Hour

func scheduledBackupInput() contract.ScheduledBackupInput {
	return contract.ScheduledBackupInput{InstanceID: instanceID, Keep: contract.Duration(keep), RequestedBy: "schedule"}
}

func expired(id string, age time.Duration) contract.ExpiredBackup {
	return contract.ExpiredBackup{BackupID: id, Location: id + ".byok", State: contract.BackupComplete,
		CreatedAt: t0.Add(-age)}
}

// mockScheduledBackup mocks the backup child and a prune of two expired backups.
func (h *harness) mockScheduledBackup() {
	h.env.OnWorkflow(contract.WorkflowBackupInstance, mock.Anything, mock.Anything).Return(
		contract.BackupResult{BackupID: backupID, InstanceID: instanceID}, nil)
	h.on(contract.ActivityListExpiredBackups, contract.ListExpiredBackupsResult{Backups: []contract.ExpiredBackup{
		expired("old-1", 9*24*time.Hour), expired("old-2", 8*24*time.Hour)}}, nil)
	h.on(contract.ActivityLoadInstance, activeInstance(), nil)
	h.on(contract.ActivityEraseBackupKey, contract.EraseBackupKeyResult{PrunedAt: t0}, nil)
	h.on(contract.ActivityDeleteBackupFile, contract.DeleteBackupFileResult{Existed: true}, nil)
	h.on(contract.ActivityRecordBackupFileDeleted, nil)
}

func TestScheduledBackup_BacksUpThenPrunesExpired(t *testing.T) {
	h := newHarness(t)
	h.mockScheduledBackup()

	h.env.ExecuteWorkflow(contract.WorkflowScheduledBackup, scheduledBackupInput())

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.ScheduledBackupResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, backupID, res.Backup.BackupID)
	require.Equal(t, []contract.PrunedBackup{{BackupID: "old-1", CreatedAt: t0.Add(-9 * 24 * time.Hour), PrunedAt: t0},
		{BackupID: "old-2", CreatedAt: t0.Add(-8 * 24 * time.Hour), PrunedAt: t0}}, res.Pruned)
	prune := []string{contract.ActivityEraseBackupKey, contract.ActivityDeleteBackupFile, contract.ActivityRecordBackupFileDeleted}
	require.Equal(t, concat([]string{contract.ActivityListExpiredBackups, contract.ActivityLoadInstance}, prune, prune), h.calls())
	h.env.AssertActivityCalled(t, contract.ActivityListExpiredBackups, mock.Anything, contract.ListExpiredBackupsInput{
		InstanceID: instanceID, Before: t0.Add(-keep), Except: backupID})
	h.env.AssertActivityCalled(t, contract.ActivityDeleteBackupFile, mock.Anything,
		contract.DeleteBackupFileInput{BackupID: "old-1", Location: "old-1.byok"})
	require.Equal(t, []string{"byokflow-node-host-a", "byokflow-node-host-a"}, h.queues[contract.ActivityDeleteBackupFile])
	h.env.AssertActivityCalled(t, contract.ActivityAcquireInstanceOperation, mock.Anything, mock.MatchedBy(
		func(in contract.AcquireInstanceOperationInput) bool { return in.Operation == contract.OperationPrune }))
	require.Empty(t, h.locked, "the prune released its lock")
}

func TestScheduledBackup_BusyInstance_SkipsAndSucceeds(t *testing.T) {
	h := newHarness(t)
	busy := contract.NewError(contract.ErrTypeInstanceBusy, "lock instance orders-db: rotate-orders-db runs", nil)
	h.env.OnWorkflow(contract.WorkflowBackupInstance, mock.Anything, mock.Anything).Return(contract.BackupResult{}, busy)

	h.env.ExecuteWorkflow(contract.WorkflowScheduledBackup, scheduledBackupInput())

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.ScheduledBackupResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Nil(t, res.Backup)
	require.Contains(t, res.Skipped, "rotate-orders-db runs")
	require.Empty(t, h.calls(), "no prune")
}

func TestScheduledBackup_PruneBusy_KeepsTheBackupAndSkipsThePrune(t *testing.T) {
	h := newHarness(t)
	h.mockScheduledBackup()
	h.lockBusy = contract.NewError(contract.ErrTypeInstanceBusy, "lock instance orders-db: shred-orders-db runs", nil)

	h.env.ExecuteWorkflow(contract.WorkflowScheduledBackup, scheduledBackupInput())

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.ScheduledBackupResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, backupID, res.Backup.BackupID)
	require.Contains(t, res.Skipped, "prune skipped")
	require.Empty(t, res.Pruned)
	h.env.AssertActivityNotCalled(t, contract.ActivityEraseBackupKey, mock.Anything, mock.Anything)
}

func TestScheduledBackup_NoKeep_PrunesNothing(t *testing.T) {
	h := newHarness(t)
	h.mockScheduledBackup()
	in := scheduledBackupInput()
	in.Keep = 0

	h.env.ExecuteWorkflow(contract.WorkflowScheduledBackup, in)

	require.NoError(t, h.env.GetWorkflowError())
	require.Empty(t, h.calls())
}

func TestScheduledBackup_BackupFails_FailsWithItsError(t *testing.T) {
	h := newHarness(t)
	bad := contract.NewError(contract.ErrTypeInstanceNotActive, "back up instance orders-db: it is suspended", nil)
	h.env.OnWorkflow(contract.WorkflowBackupInstance, mock.Anything, mock.Anything).Return(contract.BackupResult{}, bad)

	h.env.ExecuteWorkflow(contract.WorkflowScheduledBackup, scheduledBackupInput())

	require.Equal(t, contract.ErrTypeInstanceNotActive, h.workflowErrType())
}

func TestScheduledBackup_DeleteFileFails_FailsNamingTheNode(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityDeleteBackupFile, contract.DeleteBackupFileResult{},
		contract.NewError(contract.ErrTypeInvalidInput, "delete backup file old-1: not in the store", nil))
	h.mockScheduledBackup()

	h.env.ExecuteWorkflow(contract.WorkflowScheduledBackup, scheduledBackupInput())

	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
	h.env.AssertActivityNotCalled(t, contract.ActivityRecordBackupFileDeleted, mock.Anything, mock.Anything)
}
