package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/byokflow/byokflow/contract"
)

// approvalExpired is the error of a crypto-shred nobody else approved in time.
func approvalExpired(in contract.ShredInput) error {
	msg := fmt.Sprintf("shred instance %q: no principal other than %s approved within %s; nothing was destroyed: "+
		"start the crypto-shred again and have a second person send the %q signal",
		in.InstanceID, in.RequestedBy, in.ApprovalTimeout, contract.SignalApprove)
	return contract.NewError(contract.ErrTypeApprovalExpired, msg, nil)
}

// deleteKeyStep is the progress step of the root key deletion.
func deleteKeyStep(key contract.RootKeyState) string {
	if !key.DualAuthDelete {
		return "delete root key " + key.RootKeyID
	}
	return fmt.Sprintf("delete root key %s: waiting for the second authorization of the key deletion: "+
		"a second user must approve (ibmcloud kp key schedule-delete %s / set for deletion)", key.RootKeyID, key.RootKeyID)
}

// keyDeletionError turns the end of the wait for a dual-auth key's second
// authorization into ApprovalExpired: the retryable DualAuthPending
// reaches the workflow only when its retries ran out of time. Any other
// error stays as it is.
func keyDeletionError(err error, in contract.ShredInput, rootKeyID string) error {
	if contract.ErrorType(err) != contract.RetryTypeDualAuthPending {
		return err
	}
	msg := fmt.Sprintf("delete root key %s of instance %q: no second user authorized the deletion within %s: "+
		"the node keys are destroyed and the nodes' ciphertext deleted, the root key is not: have a second user run "+
		"`ibmcloud kp key schedule-delete %s`, then %s", rootKeyID, in.InstanceID, in.ApprovalTimeout, rootKeyID,
		shredRetryHint)
	return contract.NewError(contract.ErrTypeApprovalExpired, msg, err)
}

// shredCertificate states what a crypto-shred destroyed and how it was
// proven.
func shredCertificate(f shredFacts, workflowID, runID string, completed time.Time) contract.ShredCertificate {
	c := contract.ShredCertificate{Format: contract.ShredCertificateFormat, InstanceID: f.in.InstanceID,
		InstanceCRN: f.inst.InstanceCRN, RootKeyID: f.inst.RootKeyID, Scope: contract.ShredScopeInstanceAndKey,
		KeyDeleted: !f.in.KeepRootKey, Key: f.key, Nodes: f.nodes, Proof: f.proof, RequestedBy: f.in.RequestedBy,
		ApprovedBy: f.approvedBy, WorkflowID: workflowID, RunID: runID, StartedAt: f.started, CompletedAt: completed,
		UnrecoverableBackups: f.unrecoverable}
	if f.in.KeepRootKey {
		c.Scope, c.RestorableBackups, c.UnrecoverableBackups = contract.ShredScopeNodeKeysOnly, f.guards.RetainedBackups, nil
	}
	c.Statement = shredStatement(c)
	return c
}

// shredStatement says in plain words what the certificate attests.
func shredStatement(c contract.ShredCertificate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The %d nodes of instance %s stopped their servers, removed their fscrypt keys, zeroized their data encryption keys and deleted their ciphertext", len(c.Nodes), c.InstanceID)
	if !c.KeyDeleted {
		fmt.Fprintf(&b, "; root key %s was kept (Key Protect state %s), so only the node keys were destroyed.",
			c.RootKeyID, c.Key.StateName)
		if len(c.RestorableBackups) > 0 {
			fmt.Fprintf(&b, " Backups %s stay restorable under it.", strings.Join(c.RestorableBackups, ", "))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "; root key %s was deleted (Key Protect state %s)", c.RootKeyID, c.Key.StateName)
	if p := c.Proof; p != nil {
		fmt.Fprintf(&b, ", and an unwrap of the %s under it then failed (HTTP %d %s)", p.Subject, p.HTTPStatus, p.ReasonCode)
	}
	b.WriteString(".")
	if len(c.UnrecoverableBackups) > 0 {
		fmt.Fprintf(&b, " Backups %s are unrecoverable.", strings.Join(c.UnrecoverableBackups, ", "))
	}
	return b.String()
}
