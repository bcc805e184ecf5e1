package activities

import (
	"context"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/ibmenv"
	"github.com/byokflow/byokflow/internal/kprecords"
)

// Config is what the activities need to know about their environment.
type Config struct {
	// AccountID is the IBM Cloud account that owns the Key Protect instance.
	AccountID string
	// KPInstanceID is the default Key Protect instance: keys of inputs
	// that name no instance are looked up, rotated and registered there.
	KPInstanceID string
	// ServiceName is the DBaaS service name, the source of the IAM
	// authorization policy and the service segment of instance CRNs.
	ServiceName string
	// Region is the region segment of instance CRNs.
	Region string
}

// KeyAdmin is the operator's Key Protect client (key administration). Wrap
// and unwrap serve only the crypto-shred proof: a public probe, and a
// deleted key's ciphertext that must no longer unwrap.
type KeyAdmin interface {
	GetKeyMetadata(ctx context.Context, idOrAlias string) (*kp.Key, error)
	// GetKeys lists keys; CheckKPInstance reads one to learn the instance
	// exists for the operator.
	GetKeys(ctx context.Context, limit int, offset int) (*kp.Keys, error)
	RotateV2(ctx context.Context, idOrAlias string, newKey *kp.KeyPayload) error
	DeleteKey(ctx context.Context, idOrAlias string, prefer kp.PreferReturn, callOpts ...kp.CallOpt) (*kp.Key, error)
	SetDualAuthDeletePolicy(ctx context.Context, idOrAlias string, enabled bool) (*kp.Policy, error)
	WrapV2(ctx context.Context, idOrAlias string, plainText []byte, additionalAuthData *[]string) (*kp.KeyActionResponse, error)
	UnwrapV2(ctx context.Context, idOrAlias string, cipherText []byte, additionalAuthData *[]string) ([]byte, []byte, error)
}

// KeyRecords reads, with the operator identity, what Key Protect and IAM
// record that keyprotect-go-client does not parse (package
// internal/kprecords): a key's dual-authorization deletion state, its
// registrations and the activity record of calls on it.
type KeyRecords interface {
	DeletionAuthorization(ctx context.Context, keyID string) (kprecords.DeletionAuthorization, error)
	Registrations(ctx context.Context, keyID string) ([]kprecords.Registration, error)
	Activity(ctx context.Context, f kprecords.ActivityFilter) ([]kprecords.Activity, error)
}

// Registrar creates and deletes Key Protect registrations with the service
// identity. Errors are returned as Key Protect answered them.
type Registrar interface {
	CreateRegistration(ctx context.Context, keyID, resourceCRN, description string) error
	DeleteRegistration(ctx context.Context, keyID, resourceCRN string) error
}

// PolicyAPI is the part of IAM policy management used here, with the
// operator identity.
type PolicyAPI interface {
	ListPoliciesWithContext(ctx context.Context, opts *iampolicymanagementv1.ListPoliciesOptions) (
		*iampolicymanagementv1.PolicyCollection, *core.DetailedResponse, error)
	CreatePolicyWithContext(ctx context.Context, opts *iampolicymanagementv1.CreatePolicyOptions) (
		*iampolicymanagementv1.Policy, *core.DetailedResponse, error)
}

// The real clients plug in unchanged.
var (
	_ KeyAdmin   = (*kp.Client)(nil)
	_ PolicyAPI  = (*iampolicymanagementv1.IamPolicyManagementV1)(nil)
	_ Registrar  = (*ServiceRegistrar)(nil)
	_ KeyRecords = (*kprecords.Client)(nil)
)

// Clients are the activities' collaborators. Each is built once per
// worker: the IBM clients cache their IAM tokens.
type Clients struct {
	// Keys and Registrar are the clients of the default Key Protect
	// instance (Config.KPInstanceID).
	Keys      KeyAdmin
	Registrar Registrar
	// KeysFor and RegistrarFor build the clients of another Key Protect
	// instance, once per instance; nil serves only the default instance.
	KeysFor      func(kpInstanceID string) (KeyAdmin, error)
	RegistrarFor func(kpInstanceID string) (Registrar, error)
	// Records and RecordsFor read Key Protect's records (the default
	// instance's, another instance's).
	Records    KeyRecords
	RecordsFor func(kpInstanceID string) (KeyRecords, error)
	Policies   PolicyAPI
	Catalog    *catalog.Catalog
	// IAMID tells the IAM id behind the operator's (service false) or the
	// service's identity, for the audit of Key Protect calls; nil records
	// none.
	IAMID func(service bool) (string, error)
}

// Activities implements every control-plane activity of contract/control.go.
// It is safe for concurrent use.
type Activities struct {
	cfg      Config
	kp       *kpClients
	policies PolicyAPI
	catalog  *catalog.Catalog
	iamIDs   func(service bool) (string, error)
	runs     WorkflowRuns
	closers  []func()
}

// New returns the activities over clients built by the caller. Config
// fields left empty get the defaults of LoadEnv (service name, region).
func New(cfg Config, c Clients) *Activities {
	if cfg.ServiceName == "" {
		cfg.ServiceName = ibmenv.DefaultServiceName
	}
	if cfg.Region == "" {
		cfg.Region = ibmenv.DefaultRegion
	}
	return &Activities{cfg: cfg, kp: newKPClients(cfg.KPInstanceID, c), policies: c.Policies,
		catalog: c.Catalog, iamIDs: c.IAMID}
}

// Close releases what Dial opened (the catalog). It does nothing for activities built with New.
func (a *Activities) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// Register registers every activity under its contract name.
func (a *Activities) Register(w worker.ActivityRegistry) {
	for _, r := range []struct {
		name string
		fn   any
	}{
		{contract.ActivityCheckServiceAuthorization, a.CheckServiceAuthorization},
		{contract.ActivityValidateRootKey, a.ValidateRootKey},
		{contract.ActivityCreateInstanceRecord, a.CreateInstanceRecord},
		{contract.ActivityMarkInstanceFailed, a.MarkInstanceFailed},
		{contract.ActivityRegisterInstance, a.RegisterInstance},
		{contract.ActivityDeregisterInstance, a.DeregisterInstance},
		{contract.ActivityMarkInstanceActive, a.MarkInstanceActive},
		{contract.ActivityLoadInstance, a.LoadInstance},
		{contract.ActivityRotateKey, a.RotateKey},
		{contract.ActivityReadKeyVersion, a.ReadKeyVersion},
		{contract.ActivityRecordKeyVersion, a.RecordKeyVersion},
		{contract.ActivityLoadBackup, a.LoadBackup},
		{contract.ActivityCreateBackupRecord, a.CreateBackupRecord},
		{contract.ActivityCompleteBackupRecord, a.CompleteBackupRecord},
		{contract.ActivityFailBackupRecord, a.FailBackupRecord},
		{contract.ActivityCheckBackupRestorable, a.CheckBackupRestorable},
		{contract.ActivityListBackupKeys, a.ListBackupKeys},
		{contract.ActivityUpdateBackupKey, a.UpdateBackupKey},
		{contract.ActivityListFleet, a.ListFleet},
		{contract.ActivityListExpiredBackups, a.ListExpiredBackups},
		{contract.ActivityEraseBackupKey, a.EraseBackupKey},
		{contract.ActivityRecordBackupFileDeleted, a.RecordBackupFileDeleted},
		{contract.ActivityCheckShredGuards, a.CheckShredGuards},
		{contract.ActivityMarkInstanceShredding, a.MarkInstanceShredding},
		{contract.ActivityMarkInstanceShredded, a.MarkInstanceShredded},
		{contract.ActivityGetKeyState, a.GetKeyState},
		{contract.ActivityWrapProbe, a.WrapProbe},
		{contract.ActivityDeleteRootKey, a.DeleteRootKey},
		{contract.ActivityProveKeyDestroyed, a.ProveKeyDestroyed},
		{contract.ActivityMarkBackupsUnrecoverable, a.MarkBackupsUnrecoverable},
		{contract.ActivityWriteShredCertificate, a.WriteShredCertificate},
		{contract.ActivityPrepareApproval, a.PrepareApproval},
		{contract.ActivityVerifyApproval, a.VerifyApproval},
		{contract.ActivityRecordNodeReports, a.RecordNodeReports},
		{contract.ActivityRegisterHost, a.RegisterHost},
		{contract.ActivityAcquireInstanceOperation, a.AcquireInstanceOperation},
		{contract.ActivityReleaseInstanceOperation, a.ReleaseInstanceOperation},
		{contract.ActivityMarkNeedsAttention, a.MarkNeedsAttention},
		{contract.ActivityClearNeedsAttention, a.ClearNeedsAttention},
		{contract.ActivityCheckKPInstance, a.CheckKPInstance},
		{contract.ActivityListReconcileTargets, a.ListReconcileTargets},
		{contract.ActivityReadReconcileKey, a.ReadReconcileKey},
		{contract.ActivityRecordReconcile, a.RecordReconcile},
		{contract.ActivityRecordSuspension, a.RecordSuspension},
	} {
		w.RegisterActivityWithOptions(r.fn, activity.RegisterOptions{Name: r.name})
	}
}
