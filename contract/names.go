package contract

import "go.temporal.io/sdk/temporal"

// Registered workflow names. They are a wire contract: the starter starts
// workflows by these names and the worker registers them under these names.
const (
	WorkflowProvisionEncryptedInstance = "ProvisionEncryptedInstance"
	WorkflowRotateRootKey              = "RotateRootKey"
	// WorkflowNodeCheckIn records a node agent's host and the reports its
	// nodes made at start-up: node agents reach the catalog only so.
	WorkflowNodeCheckIn = "NodeCheckIn"
	// WorkflowSuspendInstance and WorkflowResumeInstance take an
	// instance's node keys away (servers stopped, storage locked) and
	// bring them back.
	WorkflowSuspendInstance = "SuspendInstance"
	WorkflowResumeInstance  = "ResumeInstance"
)

// Registered control-plane activity names, served on ControlTaskQueue.
const (
	ActivityCheckServiceAuthorization = "CheckServiceAuthorization"
	ActivityValidateRootKey           = "ValidateRootKey"
	ActivityCreateInstanceRecord      = "CreateInstanceRecord"
	ActivityMarkInstanceFailed        = "MarkInstanceFailed"
	ActivityRegisterInstance          = "RegisterInstance"
	ActivityDeregisterInstance        = "DeregisterInstance"
	ActivityMarkInstanceActive        = "MarkInstanceActive"
	ActivityLoadInstance              = "LoadInstance"
	ActivityRotateKey                 = "RotateKey"
	ActivityReadKeyVersion            = "ReadKeyVersion"
	ActivityRecordKeyVersion          = "RecordKeyVersion"
	ActivityRecordNodeReports         = "RecordNodeReports"
	ActivityRegisterHost              = "RegisterHost"
)

// Registered node activity names, served by a node agent on the task queue
// of its host (NodeTaskQueue).
const (
	ActivityInstallKey   = "InstallKey"
	ActivityDropKeySlot  = "DropKeySlot"
	ActivityRewrapKey    = "RewrapKey"
	ActivityReportStatus = "ReportStatus"
)

// Task queues. The control-plane worker polls ControlTaskQueue; every node
// agent polls NodeTaskQueue(host) for the host it runs on.
const (
	ControlTaskQueue    = "byokflow-control"
	nodeTaskQueuePrefix = "byokflow-node-"
)

// NodeTaskQueue returns the task queue served by the node agent of host.
// A node whose host is down leaves its tasks waiting on this queue.
func NodeTaskQueue(host string) string {
	return nodeTaskQueuePrefix + host
}

// QueryProgress is the query every workflow answers with a Progress value.
const QueryProgress = "progress"

// Search attribute names, all of type Keyword. The dev server registers them
// with --search-attribute ByokInstanceID=Keyword (and so on).
const (
	SearchAttributeInstanceID = "ByokInstanceID"
	SearchAttributeRootKeyID  = "ByokRootKeyID"
	SearchAttributeOperation  = "ByokOperation"
)

// Typed search attribute keys for workflow.UpsertTypedSearchAttributes and for
// list filters in the starter.
var (
	InstanceIDKey = temporal.NewSearchAttributeKeyKeyword(SearchAttributeInstanceID)
	RootKeyIDKey  = temporal.NewSearchAttributeKeyKeyword(SearchAttributeRootKeyID)
	OperationKey  = temporal.NewSearchAttributeKeyKeyword(SearchAttributeOperation)
)

// Values of the ByokOperation search attribute and of Progress.Operation.
const (
	OperationProvision = "provision"
	OperationRotate    = "rotate"
	OperationCheckIn   = "check-in"
	OperationSuspend   = "suspend"
	OperationResume    = "resume"
)
