package activities

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/contract"
)

// opShredProbe is the audit operation that keeps a wrapped shred probe.
const opShredProbe = "shred.probe"

// probeDetail is the audit detail of a wrapped probe: everything needed to
// unwrap it again, none of it secret.
type probeDetail struct {
	RootKeyID    string   `json:"rootKeyId"`
	KeyVersionID string   `json:"keyVersionId"`
	AAD          []string `json:"aad"`
	Ciphertext   []byte   `json:"ciphertext"`
}

// WrapProbe wraps a probe under the root key with the operator identity
// and keeps the wrapped probe in the audit trail, so that an unwrap of it
// can later prove the key's deletion. Provisioning wraps it, so a
// crypto-shred's proof never needs a ciphertext that protects data. The
// probe is not a key: its plaintext is 32 random bytes, forgotten at
// once, that protect nothing. A probe kept by an earlier attempt or run
// of the same instance and key is returned as is.
func (a *Activities) WrapProbe(ctx context.Context, in contract.WrapProbeInput) (contract.WrapProbeResult, error) {
	var res contract.WrapProbeResult
	op := a.operatorOp(in.KPInstanceID, "wrap shred probe of instance "+in.InstanceID+" under root key", in.RootKeyID)
	keys, err := a.keysFor(in.KPInstanceID, op.subject())
	if err != nil {
		return res, err
	}
	if kept, ok, err := a.keptProbe(ctx, in); err != nil || ok {
		return kept, err
	}
	aad := []string{"byokflow-shred-probe:" + in.InstanceID}
	plain := make([]byte, 32)
	_, _ = rand.Read(plain)
	wrapped, err := keys.WrapV2(ctx, in.RootKeyID, []byte(base64.StdEncoding.EncodeToString(plain)), &aad)
	clear(plain)
	if err != nil {
		return res, classifyKP(err, op)
	}
	res = contract.WrapProbeResult{Ciphertext: []byte(wrapped.CipherText), AAD: aad}
	if wrapped.KeyVersion != nil {
		res.KeyVersionID = wrapped.KeyVersion.ID
	}
	return res, a.auditOrRetry(ctx, op.subject(), auditEntry{operation: opShredProbe, instanceID: in.InstanceID,
		rootKeyID: in.RootKeyID, detail: map[string]any{"probe": probeDetail{RootKeyID: in.RootKeyID,
			KeyVersionID: res.KeyVersionID, AAD: aad, Ciphertext: res.Ciphertext}}})
}

// keptProbe finds a probe of the instance and key in the audit trail.
func (a *Activities) keptProbe(ctx context.Context, in contract.WrapProbeInput) (contract.WrapProbeResult, bool, error) {
	events, err := a.catalog.ListAudit(ctx, in.InstanceID)
	if err != nil {
		return contract.WrapProbeResult{}, false, fmt.Errorf("find shred probe of instance %q: %w", in.InstanceID, err)
	}
	for _, e := range events {
		var d struct{ Probe probeDetail }
		if e.Operation != opShredProbe || json.Unmarshal(e.Detail, &d) != nil || d.Probe.RootKeyID != in.RootKeyID {
			continue
		}
		return contract.WrapProbeResult{Ciphertext: d.Probe.Ciphertext, AAD: d.Probe.AAD,
			KeyVersionID: d.Probe.KeyVersionID}, true, nil
	}
	return contract.WrapProbeResult{}, false, nil
}

// ProveKeyDestroyed asks Key Protect, with the operator identity, to
// unwrap the probe the root key wrapped before its deletion, and returns
// the refusal as evidence: 410 (the key is destroyed) or 404 (purged). It
// unwraps only after Key Protect reports the key Destroyed, and the probe
// protects nothing, so no data key ever reaches the control plane. A key that is not destroyed,
// or any other answer, fails ShredUnproven; an outage is retried.
func (a *Activities) ProveKeyDestroyed(ctx context.Context, in contract.ProveKeyDestroyedInput) (contract.ShredProof, error) {
	op := a.operatorOp(in.KPInstanceID, "prove deletion of root key", in.RootKeyID)
	keys, err := a.keysFor(in.KPInstanceID, op.subject())
	if err != nil {
		return contract.ShredProof{}, err
	}
	key, err := keys.GetKeyMetadata(ctx, in.RootKeyID)
	if f, ok := kpFailureOf(err); ok && f.status == http.StatusNotFound {
		return proofOf(in, f), nil
	}
	if err != nil {
		return contract.ShredProof{}, classifyKP(err, op)
	}
	if key.State != int(kp.Destroyed) {
		return contract.ShredProof{}, unproven(op, fmt.Sprintf("Key Protect reports the key %s", stateName(key.State)))
	}
	aad := in.AAD
	plain, _, err := keys.UnwrapV2(ctx, in.RootKeyID, in.Ciphertext, &aad)
	clear(plain)
	f, ok := kpFailureOf(err)
	switch {
	case err == nil:
		return contract.ShredProof{}, unproven(op, "Key Protect still unwraps "+in.Subject)
	case ok && (f.status == http.StatusGone || f.status == http.StatusNotFound):
		return proofOf(in, f), nil
	case ok && (f.status == http.StatusTooManyRequests || f.status >= 500):
		return contract.ShredProof{}, classifyKP(err, op)
	case ok:
		return contract.ShredProof{}, unproven(op, fmt.Sprintf("the unwrap of %s failed otherwise: %s", in.Subject, f))
	}
	return contract.ShredProof{}, classifyKP(err, op)
}

// proofOf records Key Protect's refusal as evidence.
func proofOf(in contract.ProveKeyDestroyedInput, f kpFailure) contract.ShredProof {
	sum := sha256.Sum256(in.Ciphertext)
	p := contract.ShredProof{Subject: in.Subject, RootKeyID: in.RootKeyID, CiphertextSHA256: hex.EncodeToString(sum[:]),
		HTTPStatus: f.status, Message: f.msg, At: time.Now().UTC()}
	if len(f.codes) > 0 {
		p.ReasonCode = f.codes[0]
	}
	return p
}

func unproven(op kpOp, what string) error {
	msg := fmt.Sprintf("%s: %s, so nothing proves the crypto-shred: check the key with `ibmcloud kp key show %s` "+
		"(was it restored?), delete it, then run the crypto-shred again", op.subject(), what, op.keyID)
	return contract.NewError(contract.ErrTypeShredUnproven, msg, nil)
}
