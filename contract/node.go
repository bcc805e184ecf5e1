package contract

// Inputs of the node activities, served on the task queue of the node's host.
// Each returns a NodeReport, which the node agent also appends to the
// catalog's key-status history itself. The plaintext DEK lives only in the
// node agent's memory.

// InstallKeyInput makes a node's key slot: generate a DEK, wrap it under
// RootKeyID with the service identity and AAD, write the slot, report.
// Idempotent: a slot for the same instance, node and root key is reported as
// is; one under another root key fails ErrTypeKeySlotConflict. An attempt that
// returns an error or is canceled removes any slot it wrote.
type InstallKeyInput struct {
	InstanceID string `json:"instanceId"`
	NodeID     string `json:"nodeId"`
	RootKeyID  string `json:"rootKeyId"`
	// AAD binds the wrapped DEK to instance and node; see NodeAAD.
	AAD []string `json:"aad"`
	// ExpectedVersionID is the key version the workflow expects. The node
	// wraps under Key Protect's current version and reports it; the
	// workflow decides whether it matches.
	ExpectedVersionID string `json:"expectedVersionId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the node agent's default.
	KPInstanceID string `json:"kpInstanceId"`
}

// DropKeySlotInput compensates InstallKey: zeroize the DEK and remove the slot.
// Idempotent: no slot is success.
type DropKeySlotInput struct {
	InstanceID string `json:"instanceId"`
	NodeID     string `json:"nodeId"`
}

// RewrapKeyInput rewraps the node's DEK to the newest version of RootKeyID,
// atomically replacing its key slot, and reports. Idempotent: a slot already
// under TargetVersionID is reported as is.
type RewrapKeyInput struct {
	InstanceID      string   `json:"instanceId"`
	NodeID          string   `json:"nodeId"`
	RootKeyID       string   `json:"rootKeyId"`
	AAD             []string `json:"aad"`
	TargetVersionID string   `json:"targetVersionId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the node agent's default.
	KPInstanceID string `json:"kpInstanceId"`
}

// ReportStatusInput asks a node for its current key status.
type ReportStatusInput struct {
	InstanceID string `json:"instanceId"`
	NodeID     string `json:"nodeId"`
}

// NodeAAD returns the additional authenticated data that binds a wrapped DEK
// to its instance and node, as Key Protect's wrap and unwrap expect it.
func NodeAAD(instanceID, nodeID string) []string {
	return []string{
		"byokflow-instance:" + instanceID,
		"byokflow-node:" + nodeID,
	}
}
