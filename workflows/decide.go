package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

// What to do after a failed node step, by workflow.
const (
	provisionRetryHint = "provision again (the partial instance was rolled back)"
	rotateRetryHint    = "re-run the rotation (a rotation stopped half way is safe: " +
		"the re-run does not rotate again and rewraps the remaining nodes)"
)

// invalidInput classifies a validation error as permanent.
func invalidInput(err error) error {
	return contract.NewError(contract.ErrTypeInvalidInput, err.Error(), nil)
}

// isDeadline reports whether a node activity failed because no node agent
// picked it up in time.
func isDeadline(err error) bool {
	var te *temporal.TimeoutError
	if !errors.As(err, &te) {
		return false
	}
	return te.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START ||
		te.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
}

// progressOfError is the progress state of a node whose activity failed.
func progressOfError(err error) contract.ProgressState {
	switch {
	case isDeadline(err):
		return contract.ProgressTimedOut
	case temporal.IsCanceledError(err):
		return contract.ProgressCanceled
	default:
		return contract.ProgressFailed
	}
}

// errorDetail is the message of the application error in err, without the
// activity envelope, for progress and catalog reasons.
func errorDetail(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

// nodeStepError decides the error of a node step: nil when every node
// reported, a NodeDeadline error naming the silent nodes when the first
// failure was a deadline, else the first failure as it is.
func nodeStepError(run nodeRun, instanceID string, deadline time.Duration, hint string) error {
	if run.first < 0 {
		return run.recordErr
	}
	first := run.outcomes[run.first].err
	if !isDeadline(first) {
		return first
	}
	var nodes, hosts []string
	for _, o := range run.outcomes {
		if o.err != nil {
			nodes = append(nodes, fmt.Sprintf("node %s (host %s)", o.node.NodeID, o.node.Host))
			if !slices.Contains(hosts, o.node.Host) {
				hosts = append(hosts, o.node.Host)
			}
		}
	}
	msg := fmt.Sprintf("wait for nodes of instance %q: %s did not report within the %s "+
		"node deadline: start the node agent for host %s and %s",
		instanceID, strings.Join(nodes, ", "), deadline, strings.Join(hosts, ", "), hint)
	return contract.NewError(contract.ErrTypeNodeDeadline, msg, first)
}

// checkReports fails with NodeKeyMismatch unless every node reported active
// under wantVersion.
func checkReports(run nodeRun, instanceID, rootKeyID, wantVersion, hint string) error {
	return checkReportsIn(run, contract.KeyActive, instanceID, rootKeyID, wantVersion, hint)
}

// anyVersion, as checkReportsIn's wantVersion, accepts every key version.
const anyVersion = ""

// checkReportsIn fails with NodeKeyMismatch unless every node reported
// want under wantVersion (anyVersion: under any).
func checkReportsIn(run nodeRun, want contract.KeyState, instanceID, rootKeyID, wantVersion, hint string) error {
	var bad []string
	for _, o := range run.outcomes {
		r := o.report
		if r.State != want || (wantVersion != anyVersion && r.KeyVersionID != wantVersion) {
			line := fmt.Sprintf("node %s (host %s) reported %q under key version %q",
				o.node.NodeID, o.node.Host, r.State, r.KeyVersionID)
			if r.Detail != "" {
				line += " (" + r.Detail + ")"
			}
			bad = append(bad, line)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	msg := fmt.Sprintf("check key status of instance %q: %s, want %q under key version %q: "+
		"check whether root key %s was rotated or disabled meanwhile, and `starter status` for "+
		"each node's server, then %s",
		instanceID, strings.Join(bad, "; "), want, wantVersion, rootKeyID, hint)
	return contract.NewError(contract.ErrTypeNodeKeyMismatch, msg, nil)
}

// slotsToDrop lists the nodes that may hold a key slot after a failed
// install: those that reported, and those whose agent ran the task and
// failed. Nodes whose task was never picked up (deadline) or was withdrawn
// (canceled) wrote nothing, and their hosts may be down.
func slotsToDrop(run nodeRun) []contract.NodePlacement {
	var nodes []contract.NodePlacement
	for _, o := range run.outcomes {
		if o.err == nil || (!isDeadline(o.err) && !temporal.IsCanceledError(o.err)) {
			nodes = append(nodes, o.node)
		}
	}
	return nodes
}

// checkPlacement fails unless nodes is a non-empty list of distinct nodes,
// each with a host.
func checkPlacement(instanceID string, nodes []contract.NodePlacement) error {
	if len(nodes) == 0 {
		return contract.NewError(contract.ErrTypeNoNodeHosts, fmt.Sprintf(
			"place nodes of instance %q: the catalog lists no nodes: start a node agent and retry", instanceID), nil)
	}
	var seen []string
	for _, n := range nodes {
		if n.NodeID == "" || n.Host == "" {
			return invalidInput(fmt.Errorf("place nodes of instance %q: node %q has no id or host: "+
				"fix the instance's nodes in the catalog", instanceID, n.NodeID))
		}
		if slices.Contains(seen, n.NodeID) {
			return invalidInput(fmt.Errorf("place nodes of instance %q: node %q is listed twice: "+
				"fix the instance's nodes in the catalog", instanceID, n.NodeID))
		}
		seen = append(seen, n.NodeID)
	}
	return nil
}

// checkRotatable fails unless the instance is active: a pending instance is
// still being provisioned, a failed one has no keys to rotate.
func checkRotatable(instanceID string, inst contract.LoadInstanceResult) error {
	return requireActive("rotate root key of instance", instanceID, inst)
}
