package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

// What to do after a failed step of the data-path workflows.
const (
	backupRetryHint  = "back up again (the failed backup is marked failed)"
	restoreRetryHint = "restore again (the new instance was rolled back)"
	shredRetryHint   = "run the crypto-shred again to finish it (that is safe: nodes already " +
		"shredded report destroyed again)"
	suspendRetryHint = "run the suspend again (nodes already suspended report suspended again)"
	resumeRetryHint  = "enable the root key in Key Protect if it is disabled, then run the resume again"
	rewrapBackupHint = "re-run the rotation with --rewrap-only (the nodes and the backups " +
		"already rewrapped are skipped)"
)

// requireActive fails InstanceNotActive unless the instance is active, and
// checks its placement. verb says what was refused.
func requireActive(verb, instanceID string, inst contract.LoadInstanceResult) error {
	if inst.State == contract.InstanceNeedsAttention && !servesDespite(inst) {
		return attentionError(verb, instanceID, *inst.Attention)
	}
	if inst.State != contract.InstanceActive && !servesDespite(inst) {
		msg := fmt.Sprintf("%s %q: instance is %q, not %q: wait for its provision to finish, "+
			"or provision it again if it failed", verb, instanceID, inst.State, contract.InstanceActive)
		return contract.NewError(contract.ErrTypeInstanceNotActive, msg, nil)
	}
	return checkPlacement(instanceID, inst.Nodes)
}

// checkShreddable fails unless the instance may be crypto-shredded: it is
// active, failed, needs attention, or shredding (a crypto-shred that
// stopped half way).
func checkShreddable(instanceID string, inst contract.LoadInstanceResult) error {
	var why string
	switch inst.State {
	case contract.InstanceActive, contract.InstanceShredding:
		return checkPlacement(instanceID, inst.Nodes)
	case contract.InstanceFailed, contract.InstanceNeedsAttention:
		if len(inst.Nodes) == 0 {
			return nil
		}
		return checkPlacement(instanceID, inst.Nodes)
	case contract.InstanceShredded:
		why = "it is already shredded: its shred certificate is in the catalog"
	default:
		why = fmt.Sprintf("it is %q: wait for its provision to finish, then shred it", inst.State)
	}
	msg := fmt.Sprintf("shred instance %q: %s", instanceID, why)
	return contract.NewError(contract.ErrTypeInstanceNotActive, msg, nil)
}

// checkDestroyed fails NodeKeyMismatch unless every node reported its key
// destroyed.
func checkDestroyed(run nodeRun, instanceID string) error {
	var bad []string
	for _, o := range run.outcomes {
		if o.report.State != contract.KeyDestroyed {
			bad = append(bad, fmt.Sprintf("node %s (host %s) reported %q", o.node.NodeID, o.node.Host, o.report.State))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	msg := fmt.Sprintf("shred node keys of instance %q: %s, want %q: check the node agents' logs, then %s",
		instanceID, strings.Join(bad, "; "), contract.KeyDestroyed, shredRetryHint)
	return contract.NewError(contract.ErrTypeNodeKeyMismatch, msg, nil)
}

// backupsToRewrap lists the backups under rootKeyID whose DEK is not yet
// wrapped under version.
func backupsToRewrap(backups []contract.BackupRecord, rootKeyID, version string) []contract.BackupRecord {
	return slices.DeleteFunc(slices.Clone(backups), func(b contract.BackupRecord) bool {
		return b.RootKeyID != rootKeyID || b.KeyVersionID == version
	})
}

// checkBackupRewrap fails NodeKeyMismatch unless the node rewrapped the
// backup's DEK under version.
func checkBackupRewrap(b contract.BackupRecord, out contract.RewrapBackupKeyResult, version string) error {
	if out.KeyVersionID == version && len(out.WrappedDEK) > 0 {
		return nil
	}
	msg := fmt.Sprintf("rewrap key of backup %s: the node reported key version %q, want %q: "+
		"check whether root key %s was rotated meanwhile, then %s",
		b.BackupID, out.KeyVersionID, version, b.RootKeyID, rewrapBackupHint)
	return contract.NewError(contract.ErrTypeNodeKeyMismatch, msg, nil)
}

// singleNodeError is nodeStepError for a step on one node.
func singleNodeError(err error, n contract.NodePlacement, instanceID string, deadline time.Duration, hint string) error {
	run := nodeRun{outcomes: []nodeOutcome{{node: n, err: err}}, first: 0}
	return nodeStepError(run, instanceID, deadline, hint)
}

// childError returns the application error a child workflow failed with,
// so that the parent fails with the child's typed error, or err as it is.
func childError(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr
	}
	return err
}
