package contract

import (
	"go/ast"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wireTypes is every struct that crosses a process boundary. A test below
// fails when a struct declared in this package is missing here.
var wireTypes = []any{
	ProvisionInput{}, ProvisionResult{}, RotateInput{}, RotateResult{},
	CheckServiceAuthorizationInput{}, CheckServiceAuthorizationResult{},
	ValidateRootKeyInput{}, ValidateRootKeyResult{},
	CreateInstanceRecordInput{}, CreateInstanceRecordResult{},
	MarkInstanceFailedInput{}, RegisterInstanceInput{}, DeregisterInstanceInput{},
	MarkInstanceActiveInput{}, LoadInstanceInput{}, LoadInstanceResult{},
	RotateKeyInput{}, RotateKeyResult{}, ReadKeyVersionInput{}, ReadKeyVersionResult{},
	RecordKeyVersionInput{},
	InstallKeyInput{}, DropKeySlotInput{}, RewrapKeyInput{}, ReportStatusInput{},
	NodePlacement{}, NodeReport{}, Progress{}, NodeProgress{},
	BackupDatabaseInput{}, BackupDatabaseResult{}, RestoreDatabaseInput{}, RestoreDatabaseResult{},
	RewrapBackupKeyInput{}, RewrapBackupKeyResult{}, ShredKeySlotInput{},
	BackupInput{}, BackupResult{}, RestoreInput{}, RestoreResult{},
	BackupRecord{}, LoadBackupInput{}, CreateBackupRecordInput{}, CompleteBackupRecordInput{},
	FailBackupRecordInput{}, CheckBackupRestorableInput{}, CheckBackupRestorableResult{},
	ListBackupKeysInput{}, ListBackupKeysResult{}, UpdateBackupKeyInput{},
	ShredInput{}, ApproveSignal{}, ApprovalState{}, ShredApproval{}, PrepareApprovalInput{},
	PrepareApprovalResult{}, VerifyApprovalInput{}, ShredResult{}, ShredCertificate{}, RootKeyState{}, ShredProof{},
	CheckShredGuardsInput{}, CheckShredGuardsResult{}, MarkInstanceShreddingInput{},
	MarkInstanceShreddedInput{}, GetKeyStateInput{}, WrapProbeInput{}, WrapProbeResult{},
	DeleteRootKeyInput{}, DeleteRootKeyResult{}, ProveKeyDestroyedInput{},
	MarkBackupsUnrecoverableInput{}, MarkBackupsUnrecoverableResult{},
	WriteShredCertificateInput{}, WriteShredCertificateResult{},
	StartPrimaryInput{}, StartPrimaryResult{}, ReplicationSource{}, StartStandbyInput{},
	SuspendNodeInput{}, ResumeNodeInput{}, RecordNodeReportsInput{}, RecordNodeReportsResult{},
	RegisterHostInput{}, NodeCheckInInput{}, NodeCheckInResult{}, SuspendInput{}, ResumeInput{},
	NodesResult{}, AcquireInstanceOperationInput{}, AcquireInstanceOperationResult{},
	ReleaseInstanceOperationInput{}, Attention{}, MarkNeedsAttentionInput{}, ClearNeedsAttentionInput{},
	CheckKPInstanceInput{}, ReconcileInput{}, ReconcileResult{}, ReconcileTarget{},
	ListReconcileTargetsInput{}, ListReconcileTargetsResult{}, ReadReconcileKeyInput{}, KPKey{},
	RecordReconcileInput{}, RecordSuspensionInput{}, RemoveStorageInput{}, ReconcileKeyResult{},
	ReconcileInstanceResult{}, ReconcileNode{},
}

// secretWords may not appear in a field name. A wrapped DEK may.
var secretWords = []string{"plaintext", "dek", "apikey", "api_key", "token",
	"password", "passwd", "secret", "privatekey", "passphrase", "credential"}

// secretFields walks t and the struct types it contains and returns the
// paths of fields whose names look like secret material.
func secretFields(t reflect.Type, path string) []string {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return secretFields(t.Elem(), path)
	case reflect.Struct:
	default:
		return nil
	}
	if t == reflect.TypeFor[time.Time]() {
		return nil
	}
	var found []string
	for f := range t.Fields() {
		p := path + "." + f.Name
		name := strings.ReplaceAll(strings.ToLower(f.Name), "wrappeddek", "")
		if slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(name, w) }) {
			found = append(found, p)
		}
		found = append(found, secretFields(f.Type, p)...)
	}
	return found
}

func TestWireTypes_HaveNoSecretFields(t *testing.T) {
	for _, v := range wireTypes {
		typ := reflect.TypeOf(v)
		require.Empty(t, secretFields(typ, typ.Name()), "secret-looking fields in %s", typ.Name())
	}
}

func TestSecretFields_FlagsSecretNames(t *testing.T) {
	type leaky struct {
		KeyID      string
		WrappedDEK []byte
		Nested     []struct{ PlaintextDEK []byte }
		APIKey     string
		IAMToken   *string
	}
	got := secretFields(reflect.TypeFor[leaky](), "leaky")
	require.Equal(t, []string{"leaky.Nested.PlaintextDEK", "leaky.APIKey", "leaky.IAMToken"}, got)
}

func TestWireTypes_ListsEveryDeclaredStruct(t *testing.T) {
	var listed []string
	for _, v := range wireTypes {
		listed = append(listed, reflect.TypeOf(v).Name())
	}
	for _, f := range parseSources(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if _, isStruct := ts.Type.(*ast.StructType); isStruct {
					require.Contains(t, listed, ts.Name.Name, "add %s to wireTypes", ts.Name.Name)
				}
			}
			return true
		})
	}
}
