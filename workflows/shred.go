package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// CryptoShred makes an instance's data unrecoverable by destroying its keys,
// and proves it. Before anything is destroyed it refuses while other live
// instances or retained backups depend on the root key (unless KeepRootKey,
// or IncludeBackups acknowledges the backups' loss), and with
// RequireApproval waits for a second person's approval. Then every node
// zeroizes its DEK and destroys its key slot and reports destroyed; the
// instance database is dropped and its registration removed; the root key
// is deleted (waiting, for a dual-auth key, for a second user's
// authorization); an unwrap of a ciphertext the key made before must now
// fail; the backups under the key are marked unrecoverable; and a shred
// certificate is stored in the catalog. With KeepRootKey only the node
// keys are destroyed and the certificate says so.
//
// Nothing can be undone once the node keys are destroyed, so there is no
// compensation: a crypto-shred that stops half way leaves the instance
// shredding, and running CryptoShred again finishes it (every step is
// idempotent, and a probe wrapped for the proof is kept).
//
// Its errors carry the contract error types: InvalidInput,
// InstanceNotFound, InstanceNotActive, KeyInUse, BackupsRetained,
// ApprovalExpired, what a node reports, NodeDeadline, NodeKeyMismatch,
// KeyDeletionBlocked and ShredUnproven.
func CryptoShred(ctx workflow.Context, in contract.ShredInput) (res contract.ShredResult, err error) {
	in = in.WithDefaults()
	ctx, track, unlock, err := beginLocked(ctx, contract.OperationShred, in.InstanceID, in.Validate())
	defer unlock()
	if err != nil {
		return res, err
	}
	facts := shredFacts{in: in, started: workflow.Now(ctx)}
	if err = checkShredGuards(ctx, &facts, track); err != nil {
		return res, err
	}
	if err = awaitApproval(ctx, &facts, track); err != nil {
		return res, err
	}
	probe, err := proofCiphertext(ctx, facts, track)
	if err != nil {
		return res, err
	}
	if err = destroyInstance(ctx, &facts, track); err != nil {
		return res, err
	}
	if err = destroyRootKey(ctx, &facts, probe, track); err != nil {
		return res, err
	}
	cert, err := storeCertificate(ctx, &facts, track)
	if err != nil {
		return res, err
	}
	track.step("done")
	return contract.ShredResult{InstanceID: in.InstanceID, RootKeyID: facts.inst.RootKeyID,
		KeyDeleted: cert.KeyDeleted, Certificate: cert}, nil
}
