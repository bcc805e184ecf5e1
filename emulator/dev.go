package emulator

import "fmt"

// The fixed development account created by SetupDev (and --dev). They
// are published in README.md; none of them is a secret.
const (
	DevAccountID      = "b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5"
	DevKPInstanceID   = "6f3c4b1e-2d5a-4e8f-9b7c-0a1d2e3f4b5c"
	DevOperatorAPIKey = "byok-dev-operator-apikey-0000000000000000001"
	DevOperatorIAMID  = "IBMid-byok-dev-operator"
	DevServiceAPIKey  = "byok-dev-service-apikey-00000000000000000001"
	DevServiceIAMID   = "iam-ServiceId-5e7a9c1b-3d2f-4a6b-8c0d-1e2f3a4b5c6d"

	// A second person of the dev account, Manager on the dev instance
	// like the operator: the other half of a dual-authorization delete.
	DevApproverAPIKey = "byok-dev-approver-apikey-00000000000000000001"
	DevApproverIAMID  = "IBMid-byok-dev-approver"

	// The platform's own account (the DBaaS provider's, not the
	// customer's): the Key Protect instance of the root key that wraps the
	// Temporal payload codec's keys, and the identity byokflow's programs
	// use for it. The identity is a user with Writer on that instance only
	// (the emulator grants roles to users, not to service IDs); Writer lets
	// `worker codec-key rotate` create the platform root key on first use.
	DevPlatformAccountID  = "c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"
	DevCodecKPInstanceID  = "7a4d5c2f-3e6b-4f9a-8c8d-1b2e3f4a5c6d"
	DevCodecAPIKey        = "byok-dev-codec-apikey-000000000000000000001"
	DevCodecIAMID         = "IBMid-byok-dev-platform-codec"
	devCodecInstanceRoles = "Writer"
)

// DevAccount describes the development account.
type DevAccount struct {
	AccountID      string
	OperatorAPIKey string
	OperatorIAMID  string
	ApproverAPIKey string
	ApproverIAMID  string
	ServiceAPIKey  string
	ServiceIAMID   string
	ServiceName    string
	KPInstanceID   string
	// The platform account of the payload codec (the Dev*Codec* values).
	PlatformAccountID string
	CodecAPIKey       string
	CodecIAMID        string
	CodecKPInstanceID string
}

// SetupDev creates, idempotently and with the fixed Dev* values, the
// development account: one Key Protect instance, two users with Manager
// on it (the operator and the approver of dual-authorization deletes),
// and the DBaaS service ID for Config.ServiceName. Every step creates or
// updates, so a data directory made by an older emulator gains what it
// lacks. It does not create the authorization policy that lets the
// service use Key Protect: that is the user's step 2.
func (s *Server) SetupDev() (DevAccount, error) {
	d := DevAccount{
		AccountID: DevAccountID, KPInstanceID: DevKPInstanceID,
		OperatorAPIKey: DevOperatorAPIKey, OperatorIAMID: DevOperatorIAMID,
		ApproverAPIKey: DevApproverAPIKey, ApproverIAMID: DevApproverIAMID,
		ServiceAPIKey: DevServiceAPIKey, ServiceIAMID: DevServiceIAMID,
		ServiceName:       s.cfg.ServiceName,
		PlatformAccountID: DevPlatformAccountID, CodecAPIKey: DevCodecAPIKey,
		CodecIAMID: DevCodecIAMID, CodecKPInstanceID: DevCodecKPInstanceID,
	}
	steps := []func() error{
		func() error { return s.AddAccount(d.AccountID) },
		func() error { return s.AddKPInstance(d.AccountID, d.KPInstanceID) },
		func() error {
			return s.AddUser(d.AccountID, d.OperatorAPIKey, d.OperatorIAMID, map[string]string{d.KPInstanceID: "Manager"})
		},
		func() error {
			return s.AddUser(d.AccountID, d.ApproverAPIKey, d.ApproverIAMID, map[string]string{d.KPInstanceID: "Manager"})
		},
		func() error { return s.AddServiceID(d.AccountID, d.ServiceName, d.ServiceAPIKey, d.ServiceIAMID) },
		func() error { return s.AddAccount(d.PlatformAccountID) },
		func() error { return s.AddKPInstance(d.PlatformAccountID, d.CodecKPInstanceID) },
		func() error {
			return s.AddUser(d.PlatformAccountID, d.CodecAPIKey, d.CodecIAMID, map[string]string{d.CodecKPInstanceID: devCodecInstanceRoles})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return DevAccount{}, fmt.Errorf("set up dev account: %w", err)
		}
	}
	return d, nil
}

// ExportLines returns the shell lines that point byokflow at an emulator
// serving at baseURL (for example http://127.0.0.1:8444), one variable
// per line.
func (d DevAccount) ExportLines(baseURL string) []string {
	return []string{
		"export IBMCLOUD_API_KEY=" + d.OperatorAPIKey,
		"export BYOK_SERVICE_API_KEY=" + d.ServiceAPIKey,
		"export BYOK_SERVICE_NAME=" + d.ServiceName,
		"export BYOK_KP_URL=" + baseURL,
		"export BYOK_KP_INSTANCE_ID=" + d.KPInstanceID,
		"export BYOK_IAM_URL=" + baseURL,
		"export BYOK_ACCOUNT_ID=" + d.AccountID,
		"export BYOK_CODEC_API_KEY=" + d.CodecAPIKey,
		"export BYOK_CODEC_KP_INSTANCE_ID=" + d.CodecKPInstanceID,
		"export BYOK_DEV_APPROVER_API_KEY=" + d.ApproverAPIKey,
	}
}
