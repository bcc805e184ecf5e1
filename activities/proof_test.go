package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

func (h *harness) wrapProbe(instance, keyID string) contract.WrapProbeResult {
	h.t.Helper()
	var res contract.WrapProbeResult
	require.NoError(h.t, h.run(contract.ActivityWrapProbe,
		contract.WrapProbeInput{InstanceID: instance, RootKeyID: keyID}, &res))
	return res
}

func proveInput(keyID string, probe contract.WrapProbeResult) contract.ProveKeyDestroyedInput {
	return contract.ProveKeyDestroyedInput{RootKeyID: keyID, Subject: "shred probe of instance orders-db",
		Ciphertext: probe.Ciphertext, AAD: probe.AAD}
}

func TestWrapProbe_KeptForReRunsEvenAfterDeletion(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "placeholder")
	key := h.rootKey("orders-root")

	first := h.wrapProbe("orders-db", key.ID)
	again := h.wrapProbe("orders-db", key.ID)
	h.deleteKey(key.ID)
	afterDeletion := h.wrapProbe("orders-db", key.ID)

	require.NotEmpty(t, first.Ciphertext)
	require.Equal(t, key.KeyVersion.ID, first.KeyVersionID)
	require.Equal(t, []string{"byokflow-shred-probe:orders-db"}, first.AAD)
	require.Equal(t, first, again)
	require.Equal(t, first, afterDeletion, "the kept probe outlives the key")
	require.EqualValues(t, 1, h.emu.Server.Stats()[emulator.OpWrap], "wrapped once")
}

func TestWrapProbe_FindsAProbeAuditedWithTheOlderNames(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "placeholder")
	detail := `{"probe": {"rootKeyID": "k1", "keyVersionID": "v1", "aad": ["byokflow-shred-probe:orders-db"], "ciphertext": "AQI="}}`
	_, err := h.cat.AppendAudit(context.Background(), catalog.AuditEvent{Actor: "byokflow", Operation: opShredProbe,
		InstanceID: "orders-db", RootKeyID: "k1", Detail: json.RawMessage(detail)})
	require.NoError(t, err)

	require.Equal(t, contract.WrapProbeResult{Ciphertext: []byte{1, 2}, AAD: []string{"byokflow-shred-probe:orders-db"},
		KeyVersionID: "v1"}, h.wrapProbe("orders-db", "k1"), "a probe kept before the camelCase names is found")
	require.Zero(t, h.emu.Server.Stats()[emulator.OpWrap], "and not wrapped again")
}

func TestProveKeyDestroyed_RecordsTheRefusal(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "placeholder")
	key := h.rootKey("orders-root")
	probe := h.wrapProbe("orders-db", key.ID)
	_, err := h.deleteRootKey(key.ID)
	require.NoError(t, err)

	var proof contract.ShredProof
	require.NoError(t, h.run(contract.ActivityProveKeyDestroyed, proveInput(key.ID, probe), &proof))

	sum := sha256.Sum256(probe.Ciphertext)
	require.Equal(t, "shred probe of instance orders-db", proof.Subject)
	require.Equal(t, key.ID, proof.RootKeyID)
	require.Equal(t, hex.EncodeToString(sum[:]), proof.CiphertextSHA256)
	require.Equal(t, http.StatusGone, proof.HTTPStatus)
	require.Equal(t, "KEY_DELETED_ERR", proof.ReasonCode)
	require.NotEmpty(t, proof.Message)
	require.WithinDuration(t, time.Now(), proof.At, time.Minute)
	require.EqualValues(t, 1, h.emu.Server.Stats()[emulator.OpUnwrap])
}

func TestProveKeyDestroyed_LiveKeyIsUnprovenWithoutUnwrapping(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "placeholder")
	key := h.rootKey("orders-root")
	probe := h.wrapProbe("orders-db", key.ID)

	err := h.run(contract.ActivityProveKeyDestroyed, proveInput(key.ID, probe), nil)

	requireTyped(t, err, contract.ErrTypeShredUnproven, "prove deletion of root key "+key.ID,
		"Key Protect reports the key Active", "nothing proves the crypto-shred")
	require.Zero(t, h.emu.Server.Stats()[emulator.OpUnwrap], "a live key's ciphertext is never unwrapped here")
}

func TestWriteShredCertificate_FirstWriteWins(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	first := contract.ShredCertificate{Format: contract.ShredCertificateFormat, InstanceID: "orders-db",
		RootKeyID: "key-1", Scope: contract.ShredScopeInstanceAndKey, KeyDeleted: true,
		Key:                  contract.RootKeyState{RootKeyID: "key-1", State: contract.KPStateDestroyed, StateName: "Destroyed", DeletionDate: at},
		Proof:                &contract.ShredProof{Subject: "backup b1", HTTPStatus: 410, ReasonCode: "KEY_DELETED_ERR", At: at},
		Nodes:                []contract.NodeReport{{InstanceID: "orders-db", NodeID: "orders-db-1", State: contract.KeyDestroyed, ReportedAt: at}},
		UnrecoverableBackups: []string{"b1"}, RequestedBy: "alice", ApprovedBy: "bob", StartedAt: at, CompletedAt: at}
	second := first
	second.RequestedBy, second.Statement = "mallory", "rewritten"

	var stored, again contract.WriteShredCertificateResult
	require.NoError(t, h.run(contract.ActivityWriteShredCertificate, contract.WriteShredCertificateInput{Certificate: first}, &stored))
	require.NoError(t, h.run(contract.ActivityWriteShredCertificate, contract.WriteShredCertificateInput{Certificate: second}, &again))

	require.False(t, stored.Existing)
	require.Equal(t, first, stored.Certificate)
	require.True(t, again.Existing)
	require.Equal(t, first, again.Certificate, "the evidence never changes")
	require.Equal(t, 1, countOps(h.auditOps("orders-db"), "instance.shred-certificate"))

	row, err := h.cat.GetShredCertificate(context.Background(), "orders-db")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(row.Certificate, &doc))
	require.Equal(t, "byokflow-shred-certificate/v2", doc["format"], "stored with camelCase keys: %s", row.Certificate)
	require.Equal(t, "bob", doc["approvedBy"])
	require.Contains(t, doc, "unrecoverableBackups")
	require.NotContains(t, doc, "InstanceID")
}

func TestWriteShredCertificate_AStoredV1CertificateStaysAndDecodes(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	v1 := `{"Format": "byokflow-shred-certificate/v1", "InstanceID": "orders-db", "RootKeyID": "key-1",
		"KeyDeleted": true, "Nodes": [{"NodeID": "orders-db-1", "State": "destroyed"}], "RequestedBy": "alice",
		"CompletedAt": "2030-01-02T03:04:05Z"}`
	_, err := h.cat.PutShredCertificate(context.Background(), "orders-db", json.RawMessage(v1))
	require.NoError(t, err)

	var res contract.WriteShredCertificateResult
	require.NoError(t, h.run(contract.ActivityWriteShredCertificate, contract.WriteShredCertificateInput{
		Certificate: contract.ShredCertificate{Format: contract.ShredCertificateFormat, InstanceID: "orders-db"}}, &res))

	require.True(t, res.Existing)
	require.Equal(t, contract.ShredCertificate{Format: "byokflow-shred-certificate/v1", InstanceID: "orders-db",
		RootKeyID: "key-1", KeyDeleted: true, Nodes: []contract.NodeReport{{NodeID: "orders-db-1", State: contract.KeyDestroyed}},
		RequestedBy: "alice", CompletedAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}, res.Certificate)
}

func TestWriteShredCertificate_UnknownInstanceIsInstanceNotFound(t *testing.T) {
	h := newCatalogHarness(t)

	err := h.run(contract.ActivityWriteShredCertificate, contract.WriteShredCertificateInput{
		Certificate: contract.ShredCertificate{InstanceID: "missing-db"}}, nil)

	requireTyped(t, err, contract.ErrTypeInstanceNotFound, `store shred certificate of instance "missing-db"`)
}
