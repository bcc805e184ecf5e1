package contract

import "time"

// KeyState is the key status of one database node, as shown on the Nodes page.
type KeyState string

// Key status states. A node reports exactly one of them.
const (
	// KeyPending: the node exists but has no usable key slot yet.
	KeyPending KeyState = "pending"
	// KeyActive: the node's DEK is unwrapped under the reported key version.
	KeyActive KeyState = "active"
	// KeyRewrapRequired: the root key has a newer version than the slot's.
	KeyRewrapRequired KeyState = "rewrap_required"
	// KeySuspended: the root key is disabled; the node flushed its DEK.
	KeySuspended KeyState = "suspended"
	// KeyUnreachable: Key Protect cannot be reached; a grace window keeps
	// the DEK in memory.
	KeyUnreachable KeyState = "unreachable"
	// KeyDestroyed: the key slot or the root key is destroyed; data is
	// unrecoverable.
	KeyDestroyed KeyState = "destroyed"
	// KeyError: anything else; Detail says what.
	KeyError KeyState = "error"
)

// KeyStates lists every key status state in display order.
func KeyStates() []KeyState {
	return []KeyState{KeyPending, KeyActive, KeyRewrapRequired, KeySuspended,
		KeyUnreachable, KeyDestroyed, KeyError}
}

// Valid reports whether s is one of KeyStates.
func (s KeyState) Valid() bool {
	for _, k := range KeyStates() {
		if s == k {
			return true
		}
	}
	return false
}

// InstanceState is the lifecycle state of an instance record in the catalog.
type InstanceState string

// Instance states.
const (
	// InstancePending: provisioning is under way.
	InstancePending InstanceState = "pending"
	// InstanceActive: every node reported active; the instance is usable.
	InstanceActive InstanceState = "active"
	// InstanceFailed: provisioning failed and was compensated; the name may
	// be reused by a new ProvisionEncryptedInstance.
	InstanceFailed InstanceState = "failed"
	// InstanceShredding: CryptoShred is destroying the instance's keys; a
	// run that stopped half way is finished by running CryptoShred again.
	InstanceShredding InstanceState = "shredding"
	// InstanceShredded: the instance was crypto-shredded (terminal); its
	// shred certificate is in the catalog.
	InstanceShredded InstanceState = "shredded"
	// InstanceNeedsAttention: a compensation failed and left work undone
	// (LoadInstanceResult.Attention says which step); a re-run of the
	// operation finishes it and clears the mark.
	InstanceNeedsAttention InstanceState = "needs_attention"
)

// NodePlacement says which host serves a database node and on which task
// queue its node agent listens. TaskQueue is NodeTaskQueue(Host).
type NodePlacement struct {
	NodeID    string `json:"nodeId"`
	Host      string `json:"host"`
	TaskQueue string `json:"taskQueue"`
}

// NodeReport is one key-status report of one node. Node activities append it
// to the catalog's key-status history themselves and return it; workflows only
// collect it. KeyCheckValue is a key check value of the DEK (never the DEK).
type NodeReport struct {
	InstanceID    string    `json:"instanceId"`
	NodeID        string    `json:"nodeId"`
	Host          string    `json:"host"`
	RootKeyID     string    `json:"rootKeyId"`
	KeyVersionID  string    `json:"keyVersionId"`
	State         KeyState  `json:"state"`
	KeyCheckValue string    `json:"keyCheckValue"`
	Detail        string    `json:"detail"`
	ReportedAt    time.Time `json:"reportedAt"`
	// Role is the node's role: primary or standby (empty before its
	// server was made).
	Role NodeRole `json:"role,omitempty"`
	// ServerUp is true while the node's PostgreSQL server runs.
	ServerUp bool `json:"serverUp"`
	// Address is the server's host:port, when it runs.
	Address string `json:"address,omitempty"`
	// Replication is a standby's state (ReplicationStreaming or
	// ReplicationStopped) and LagBytes how far its replay trails what it
	// received from the primary.
	Replication string `json:"replication,omitempty"`
	LagBytes    int64  `json:"lagBytes,omitempty"`
	// Storage names the protection of the node's data directory, for
	// example "fscrypt v2 aes-256-xts", and StorageKeyID the fscrypt key
	// identifier (a public hash of the key, not the key).
	Storage      string `json:"storage,omitempty"`
	StorageKeyID string `json:"storageKeyId,omitempty"`
	// StorageKey is the fscrypt key's presence in the kernel: "present",
	// or, after a suspend or shred, how its removal went ("removed",
	// "already absent").
	StorageKey string `json:"storageKey,omitempty"`
}
