package contract

import (
	"fmt"
	"strings"
)

// The database servers of an instance. Every node runs its own PostgreSQL
// server on storage encrypted by Linux fscrypt under a key derived from the
// node's DEK: the first node (placement order) is the primary, the others
// are streaming standbys made with pg_basebackup from it. These activities
// run on the node's host, after InstallKey has made the node's key slot
// and unlocked its encrypted directory.

// Node activity names of the database servers.
const (
	ActivityStartPrimary = "StartPrimary"
	ActivityStartStandby = "StartStandby"
	ActivitySuspendNode  = "SuspendNode"
	ActivityResumeNode   = "ResumeNode"
)

// AdminRole is the PostgreSQL role an instance's operator logs in as; it
// owns the instance database. Its password is the operator's alone: the
// workflow carries only its SCRAM-SHA-256 verifier.
const AdminRole = "byok_admin"

// ReplicationRole is the PostgreSQL role the standbys stream as.
const ReplicationRole = "byok_replication"

// NodeRole is a node's role in its instance.
type NodeRole string

// Node roles.
const (
	RolePrimary NodeRole = "primary"
	RoleStandby NodeRole = "standby"
)

// Replication states of a standby, as NodeReport.Replication reports them.
const (
	ReplicationStreaming = "streaming"
	ReplicationStopped   = "not streaming"
)

// StartPrimaryInput makes node NodeID the primary of InstanceID: initdb in
// its encrypted directory (once), start its server, and create AdminRole
// with AdminVerifier, the database DatabaseName owned by it, and
// ReplicationRole with a fresh random password. That password leaves the
// node only wrapped by RootKeyID (with ReplicationAAD), for the standbys.
// Idempotent: a retry finds the cluster made and starts or keeps the server.
type StartPrimaryInput struct {
	InstanceID   string `json:"instanceId"`
	NodeID       string `json:"nodeId"`
	DatabaseName string `json:"databaseName"`
	// AdminVerifier is the SCRAM-SHA-256 verifier of the operator's
	// password ("SCRAM-SHA-256$4096:..."), never the password.
	AdminVerifier string `json:"adminVerifier"`
	RootKeyID     string `json:"rootKeyId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the node agent's default.
	KPInstanceID string `json:"kpInstanceId"`
}

// StartPrimaryResult is the primary's report and what its standbys need to
// stream from it.
type StartPrimaryResult struct {
	Report  NodeReport        `json:"report"`
	Primary ReplicationSource `json:"primary"`
}

// ReplicationSource is where a standby streams from: the primary's server
// address, and the replication role's password wrapped by the root key,
// which only a node agent (the service identity) can unwrap.
type ReplicationSource struct {
	Address            string   `json:"address"`
	ReplicationWrapped []byte   `json:"replicationWrapped"`
	AAD                []string `json:"aad"`
	RootKeyID          string   `json:"rootKeyId"`
	KPInstanceID       string   `json:"kpInstanceId"`
}

// StartStandbyInput makes node NodeID a standby of Primary: pg_basebackup
// into its encrypted directory (once), start its server, and wait until it
// streams. Idempotent: a retry finds the standby made and starts it.
type StartStandbyInput struct {
	InstanceID string            `json:"instanceId"`
	NodeID     string            `json:"nodeId"`
	Primary    ReplicationSource `json:"primary"`
}

// SuspendNodeInput takes a node's key away while its key slot stays: stop
// the server, remove the fscrypt key (the data is ciphertext from then on),
// zeroize the DEK in memory, and report `suspended` with Reason. It is what
// a disabled root key means for a node. Idempotent.
type SuspendNodeInput struct {
	InstanceID string `json:"instanceId"`
	NodeID     string `json:"nodeId"`
	Reason     string `json:"reason"`
}

// ResumeNodeInput brings a suspended node back: unwrap its key slot, add the
// fscrypt key, start the server, and report. Idempotent: a serving node
// reports as it is.
type ResumeNodeInput struct {
	InstanceID string `json:"instanceId"`
	NodeID     string `json:"nodeId"`
}

// ReplicationAAD binds an instance's wrapped replication password to it.
func ReplicationAAD(instanceID string) []string {
	return []string{"byokflow-instance:" + instanceID, "byokflow-replication"}
}

// ValidateAdminVerifier checks that v looks like a PostgreSQL
// SCRAM-SHA-256 verifier, so that a plaintext password is never taken for
// one.
func ValidateAdminVerifier(v string) error {
	if strings.HasPrefix(v, "SCRAM-SHA-256$") && strings.Count(v, "$") == 2 && strings.Contains(v, ":") {
		return nil
	}
	return fmt.Errorf("validate admin verifier: give the SCRAM-SHA-256 verifier of the " +
		"instance's admin password (`starter provision` makes one), never the password")
}
