package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// Register registers every workflow of this package under its contract name.
func Register(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(ProvisionEncryptedInstance,
		workflow.RegisterOptions{Name: contract.WorkflowProvisionEncryptedInstance})
	w.RegisterWorkflowWithOptions(RotateRootKey,
		workflow.RegisterOptions{Name: contract.WorkflowRotateRootKey})
	w.RegisterWorkflowWithOptions(BackupInstance,
		workflow.RegisterOptions{Name: contract.WorkflowBackupInstance})
	w.RegisterWorkflowWithOptions(RestoreFromBackup,
		workflow.RegisterOptions{Name: contract.WorkflowRestoreFromBackup})
	w.RegisterWorkflowWithOptions(CryptoShred,
		workflow.RegisterOptions{Name: contract.WorkflowCryptoShred})
	w.RegisterWorkflowWithOptions(SuspendInstance,
		workflow.RegisterOptions{Name: contract.WorkflowSuspendInstance})
	w.RegisterWorkflowWithOptions(ResumeInstance,
		workflow.RegisterOptions{Name: contract.WorkflowResumeInstance})
	w.RegisterWorkflowWithOptions(FleetRotate,
		workflow.RegisterOptions{Name: contract.WorkflowFleetRotate})
	w.RegisterWorkflowWithOptions(ScheduledBackup,
		workflow.RegisterOptions{Name: contract.WorkflowScheduledBackup})
	w.RegisterWorkflowWithOptions(NodeCheckIn,
		workflow.RegisterOptions{Name: contract.WorkflowNodeCheckIn})
	w.RegisterWorkflowWithOptions(ReconcileKeys,
		workflow.RegisterOptions{Name: contract.WorkflowReconcileKeys})
	w.RegisterWorkflowWithOptions(RemoveKeyDestroyedStorage,
		workflow.RegisterOptions{Name: contract.WorkflowRemoveKeyDestroyedStorage})
}
