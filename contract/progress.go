package contract

import "time"

// ProgressState is where one node stands in a running workflow: one of the
// Progress* constants below, or the KeyState the node reported.
type ProgressState string

// Progress states that are not a reported KeyState.
const (
	// ProgressNotStarted: the workflow has not reached the node step yet.
	ProgressNotStarted ProgressState = "not_started"
	// ProgressWaiting: the node's activity is scheduled on its host's task
	// queue; the node has not reported yet (its agent may be down).
	ProgressWaiting ProgressState = "waiting"
	// ProgressTimedOut: the node did not report before the node deadline.
	ProgressTimedOut ProgressState = "timed_out"
	// ProgressFailed: the node activity failed; Detail says why.
	ProgressFailed ProgressState = "failed"
	// ProgressCanceled: the workflow stopped waiting for the node because
	// another step failed.
	ProgressCanceled ProgressState = "canceled"
	// ProgressDone: the node finished a data-path step that does not end
	// in a key report (a backup written, a backup restored).
	ProgressDone ProgressState = "done"
)

// ProgressOf returns the progress state for a reported key state.
func ProgressOf(s KeyState) ProgressState { return ProgressState(s) }

// Progress is the answer to QueryProgress: where a workflow stands, per node.
type Progress struct {
	Operation  string `json:"operation"`
	InstanceID string `json:"instanceId"`
	RootKeyID  string `json:"rootKeyId"`
	// Step names the step the workflow is in, for example "install keys".
	Step  string         `json:"step"`
	Nodes []NodeProgress `json:"nodes"`
	// Notes are events of the run worth showing, oldest first, for
	// example an approval that was rejected.
	Notes []string `json:"notes"`
}

// NodeProgress is one node's line in Progress. KeyVersionID, ReportedAt and
// Detail are empty until the node reports or fails.
type NodeProgress struct {
	NodeID       string        `json:"nodeId"`
	Host         string        `json:"host"`
	State        ProgressState `json:"state"`
	KeyVersionID string        `json:"keyVersionId"`
	ReportedAt   time.Time     `json:"reportedAt"`
	// WaitingSince is when the workflow scheduled the node's activity.
	WaitingSince time.Time `json:"waitingSince"`
	Detail       string    `json:"detail"`
}
