package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

const backupID = "orders-db-20300102T030405"

// instanceOn records instance id (three nodes on two hosts) under keyID,
// as a provision would, and marks it active at its key's version v1.
func (h *harness) instanceOn(id, keyID string) {
	h.t.Helper()
	h.hosts("host-a", "host-b")
	in := recordInput("provision-" + id)
	in.InstanceID, in.RootKeyID = id, keyID
	require.NoError(h.t, h.run(contract.ActivityCreateInstanceRecord, in, nil))
	require.NoError(h.t, h.run(contract.ActivityMarkInstanceActive,
		contract.MarkInstanceActiveInput{InstanceID: id, KeyVersionID: "v1"}, nil))
}

// completeInput is what a node reports for backup id of instance under keyID.
func completeInput(id, instance, keyID string) contract.CompleteBackupRecordInput {
	return contract.CompleteBackupRecordInput{BackupID: id, InstanceID: instance,
		Location: id + ".byok", Bytes: 4096, SHA256: "5ha", RootKeyID: keyID, KeyVersionID: "v1",
		WrappedDEK: []byte("wrapped-" + id), AAD: contract.BackupAAD(id), RequestedBy: "alice"}
}

// backup records a complete backup id of instance under keyID.
func (h *harness) backup(id, instance, keyID string) {
	h.t.Helper()
	require.NoError(h.t, h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: id, InstanceID: instance, RootKeyID: keyID, KeyVersionID: "v1", RequestedBy: "alice"}, nil))
	require.NoError(h.t, h.run(contract.ActivityCompleteBackupRecord, completeInput(id, instance, keyID), nil))
}

func (h *harness) storedBackup(id string) catalog.Backup {
	h.t.Helper()
	b, err := h.cat.GetBackup(context.Background(), id)
	require.NoError(h.t, err)
	return b
}

func TestBackupRecord_CreateThenCompleteIsIdempotent(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	create := contract.CreateBackupRecordInput{BackupID: backupID, InstanceID: "orders-db",
		RootKeyID: "key-1", KeyVersionID: "v1", RequestedBy: "alice"}

	require.NoError(t, h.run(contract.ActivityCreateBackupRecord, create, nil))
	require.NoError(t, h.run(contract.ActivityCreateBackupRecord, create, nil), "retry")
	require.Equal(t, catalog.BackupWriting, h.storedBackup(backupID).State)
	done := completeInput(backupID, "orders-db", "key-1")
	require.NoError(t, h.run(contract.ActivityCompleteBackupRecord, done, nil))
	require.NoError(t, h.run(contract.ActivityCompleteBackupRecord, done, nil), "retry")

	var rec contract.BackupRecord
	require.NoError(t, h.run(contract.ActivityLoadBackup, contract.LoadBackupInput{BackupID: backupID}, &rec))
	require.Equal(t, contract.BackupRecord{BackupID: backupID, InstanceID: "orders-db", Location: backupID + ".byok",
		Bytes: 4096, SHA256: "5ha", RootKeyID: "key-1", KeyVersionID: "v1", WrappedDEK: []byte("wrapped-" + backupID),
		AAD: contract.BackupAAD(backupID), State: contract.BackupComplete}, rec)
	require.Equal(t, []string{"instance.create", "instance.active", "backup.create", "backup.complete"},
		h.auditOps("orders-db"), "audited once each")
}

func TestCreateBackupRecord_Rejects(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	h.backup(backupID, "orders-db", "key-1")

	taken := h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: backupID, InstanceID: "orders-db", RootKeyID: "key-1"}, nil)
	badID := h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: "../etc/passwd", InstanceID: "orders-db", RootKeyID: "key-1"}, nil)
	noInstance := h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: "missing-db-1", InstanceID: "missing-db", RootKeyID: "key-1"}, nil)

	requireTyped(t, taken, contract.ErrTypeInvalidInput, "backup id "+backupID+" is taken by a complete backup")
	requireTyped(t, badID, contract.ErrTypeInvalidInput, "validate backup id")
	requireTyped(t, noInstance, contract.ErrTypeInstanceNotFound, `instance "missing-db"`)
}

func TestCompleteBackupRecord_MissingLineageIsInvalidInput(t *testing.T) {
	h := newCatalogHarness(t)
	in := completeInput(backupID, "orders-db", "key-1")
	in.WrappedDEK = nil

	err := h.run(contract.ActivityCompleteBackupRecord, in, nil)

	requireTyped(t, err, contract.ErrTypeInvalidInput, "no location, checksum, wrapped DEK or key version")
}

func TestFailBackupRecord_FailsWritingKeepsComplete(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	h.backup("orders-db-done", "orders-db", "key-1")
	require.NoError(t, h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: backupID, InstanceID: "orders-db", RootKeyID: "key-1"}, nil))

	for _, id := range []string{backupID, backupID, "orders-db-done", "never-made"} {
		require.NoError(t, h.run(contract.ActivityFailBackupRecord,
			contract.FailBackupRecordInput{BackupID: id, Reason: "node orders-db-1 failed"}, nil), id)
	}

	require.Equal(t, catalog.BackupFailed, h.storedBackup(backupID).State)
	require.Equal(t, catalog.BackupComplete, h.storedBackup("orders-db-done").State)
	require.Equal(t, 1, countOps(h.auditOps("orders-db"), "backup.failed"))
}

func TestLoadBackup_UnknownIsBackupNotFound(t *testing.T) {
	h := newCatalogHarness(t)

	err := h.run(contract.ActivityLoadBackup, contract.LoadBackupInput{BackupID: "nope-1"}, nil)

	requireTyped(t, err, contract.ErrTypeBackupNotFound, "load backup nope-1", "starter backups")
}

func countOps(ops []string, op string) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}
