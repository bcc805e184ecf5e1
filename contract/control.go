package contract

// Inputs and results of the control-plane activities (ControlTaskQueue). Every
// activity is safe to retry: it upserts by the ids it is given.

// CheckServiceAuthorizationInput asks whether the IAM policy letting the DBaaS
// service read keys of KPInstanceID exists; Create makes it when missing.
// Fails ErrTypeServiceNotAuthorized naming the policy to create (source
// service, target Key Protect instance, role Reader) and --create-authorization.
type CheckServiceAuthorizationInput struct {
	KPInstanceID string `json:"kpInstanceId"`
	Create       bool   `json:"create"`
}

// CheckServiceAuthorizationResult names the policy; Created is true when this
// call created it.
type CheckServiceAuthorizationResult struct {
	PolicyID string `json:"policyId"`
	Created  bool   `json:"created"`
}

// ValidateRootKeyInput names the key to check in KPInstanceID with the
// operator identity. Fails ErrTypeKeyNotFound (also for a key of another
// instance), ErrTypeNotRootKey, or ErrTypeKeyNotActive naming the key's state.
type ValidateRootKeyInput struct {
	RootKeyID    string `json:"rootKeyId"`
	KPInstanceID string `json:"kpInstanceId"`
}

// ValidateRootKeyResult describes a usable root key. KeyVersionID is its
// current version. Imported is true for a key created from the customer's
// own material (plain or secure import): it rotates only with new material.
type ValidateRootKeyResult struct {
	KeyVersionID string `json:"keyVersionId"`
	KeyName      string `json:"keyName"`
	KeyCRN       string `json:"keyCrn"`
	Imported     bool   `json:"imported"`
}

// CreateInstanceRecordInput creates the catalog record in state pending and
// places Nodes nodes across the hosts of registered node agents. Idempotent
// for the same WorkflowID, which names the workflow run ("id/run id") so
// that a new run of the same workflow id does not adopt a live instance; a
// failed record of the same name is replaced.
// Fails ErrTypeInstanceExists otherwise, ErrTypeNoNodeHosts without hosts.
type CreateInstanceRecordInput struct {
	InstanceID   string `json:"instanceId"`
	RootKeyID    string `json:"rootKeyId"`
	KPInstanceID string `json:"kpInstanceId"`
	KeyVersionID string `json:"keyVersionId"`
	Nodes        int    `json:"nodes"`
	WorkflowID   string `json:"workflowId"`
	RequestedBy  string `json:"requestedBy"`
}

// CreateInstanceRecordResult returns the instance CRN (registered with the
// key), the database name and the placement of every node. Node ids are
// stable and unique within the instance, for example "orders-db-1"; a retry
// returns the same placement.
type CreateInstanceRecordResult struct {
	InstanceCRN  string          `json:"instanceCrn"`
	DatabaseName string          `json:"databaseName"`
	Nodes        []NodePlacement `json:"nodes"`
}

// MarkInstanceFailedInput compensates CreateInstanceRecord: it removes the
// instance's nodes and marks the record failed, keeping its history for audit
// and freeing the name for a new provision.
type MarkInstanceFailedInput struct {
	InstanceID string `json:"instanceId"`
	Reason     string `json:"reason"`
	// WorkflowID, when set, limits the change to a record created by that
	// run (CreateInstanceRecordInput.WorkflowID); another's is left alone.
	WorkflowID string `json:"workflowId,omitempty"`
}

// RegisterInstanceInput registers InstanceCRN with the root key (a Key Protect
// registration, made with the service identity). Idempotent.
type RegisterInstanceInput struct {
	RootKeyID   string `json:"rootKeyId"`
	InstanceCRN string `json:"instanceCrn"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the default (the worker's BYOK_KP_INSTANCE_ID).
	KPInstanceID string `json:"kpInstanceId"`
}

// DeregisterInstanceInput compensates RegisterInstance. Idempotent.
type DeregisterInstanceInput struct {
	RootKeyID   string `json:"rootKeyId"`
	InstanceCRN string `json:"instanceCrn"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the default (the worker's BYOK_KP_INSTANCE_ID).
	KPInstanceID string `json:"kpInstanceId"`
}

// MarkInstanceActiveInput marks the record active under KeyVersionID.
type MarkInstanceActiveInput struct {
	InstanceID   string `json:"instanceId"`
	KeyVersionID string `json:"keyVersionId"`
}

// LoadInstanceInput reads an instance record. Fails ErrTypeInstanceNotFound.
type LoadInstanceInput struct {
	InstanceID string `json:"instanceId"`
}

// LoadInstanceResult is the record. KeyVersionID is the version recorded at
// the last completed provision or rotation.
type LoadInstanceResult struct {
	RootKeyID    string          `json:"rootKeyId"`
	KPInstanceID string          `json:"kpInstanceId"`
	KeyVersionID string          `json:"keyVersionId"`
	Nodes        []NodePlacement `json:"nodes"`
	State        InstanceState   `json:"state"`
	// InstanceCRN is the CRN registered with the root key.
	InstanceCRN string `json:"instanceCrn"`
	// DatabaseName is the instance's database on the database server.
	DatabaseName string `json:"databaseName"`
	// Attention is set (State needs_attention) when a compensation failed.
	Attention *Attention `json:"attention,omitempty"`
}

// RotateKeyInput rotates RootKeyID in Key Protect only while its current
// version still equals FromVersionID, so a retried or re-run rotation never
// rotates twice. Fails ErrTypeRotationTooSoon when Key Protect refuses, and
// ErrTypeKeyMaterialRequired for an imported key.
type RotateKeyInput struct {
	RootKeyID     string `json:"rootKeyId"`
	FromVersionID string `json:"fromVersionId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the default (the worker's BYOK_KP_INSTANCE_ID).
	KPInstanceID string `json:"kpInstanceId"`
}

// RotateKeyResult is the key's current version after the call; Rotated is
// false when the version had already moved past FromVersionID.
type RotateKeyResult struct {
	KeyVersionID string `json:"keyVersionId"`
	Rotated      bool   `json:"rotated"`
}

// ReadKeyVersionInput reads the current version of RootKeyID.
type ReadKeyVersionInput struct {
	RootKeyID string `json:"rootKeyId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the default (the worker's BYOK_KP_INSTANCE_ID).
	KPInstanceID string `json:"kpInstanceId"`
}

// ReadKeyVersionResult is the key's current version.
type ReadKeyVersionResult struct {
	KeyVersionID string `json:"keyVersionId"`
}

// RecordKeyVersionInput records that every node of InstanceID reported
// KeyVersionID. Idempotent.
type RecordKeyVersionInput struct {
	InstanceID   string `json:"instanceId"`
	KeyVersionID string `json:"keyVersionId"`
	RequestedBy  string `json:"requestedBy"`
}

// RecordNodeReportsInput appends node reports to the catalog's key-status
// history. Node agents never write the catalog: node activities return
// their reports and the workflow records them with this activity. A report
// without a root key (a node without a readable slot) gets its instance's.
type RecordNodeReportsInput struct {
	Reports []NodeReport `json:"reports"`
}

// RecordNodeReportsResult is the reports as stored. A report of a node the
// catalog does not know (its instance was removed) is skipped and named.
type RecordNodeReportsResult struct {
	Reports []NodeReport `json:"reports"`
	Unknown []string     `json:"unknown,omitempty"`
}

// RegisterHostInput registers a node agent's host and task queue, so that
// nodes can be placed on it. Idempotent.
type RegisterHostInput struct {
	Host      string `json:"host"`
	TaskQueue string `json:"taskQueue"`
}
