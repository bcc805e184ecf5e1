// Package emulatortest runs the Key Protect + IAM emulator in-process for
// tests and hands out real IBM clients pointed at it. It may import the
// IBM clients and testify; production code must not import it.
package emulatortest

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
)

// Env is a running emulator with the development account set up.
type Env struct {
	URL    string // http base URL, for Key Protect and IAM alike
	Server *emulator.Server
	Dev    emulator.DevAccount
	// DataDir is the data directory; empty for a memory-only emulator.
	DataDir string
	tokens  *tokenLog
}

// Option adjusts the emulator configuration before start.
type Option func(*emulator.Config)

// WithMemory keeps all state in memory (no data directory).
func WithMemory() Option { return func(c *emulator.Config) { c.DataDir = "" } }

// WithDataDir uses dir as the data directory, e.g. to restart on it.
func WithDataDir(dir string) Option { return func(c *emulator.Config) { c.DataDir = dir } }

// WithTiming sets the timing guards (Start turns them all off).
func WithTiming(t emulator.Timing) Option { return func(c *emulator.Config) { c.Timing = t } }

// WithConfig applies any change to the configuration.
func WithConfig(fn func(*emulator.Config)) Option { return Option(fn) }

// Start runs an in-process emulator behind an httptest server with every
// timing guard off, a temporary data directory and 2048-bit import token
// transport keys (quicker to generate than the real 4096) unless an option
// says otherwise, sets up the development account and registers cleanup.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := emulator.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), TransportKeyBits: 2048}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := emulator.New(cfg)
	require.NoError(t, err, "start emulator")
	dev, err := srv.SetupDev()
	require.NoError(t, err, "set up dev account")
	tokens := &tokenLog{}
	ts := httptest.NewServer(tokens.wrap(srv.Handler()))
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	return &Env{URL: ts.URL, Server: srv, Dev: dev, DataDir: cfg.DataDir, tokens: tokens}
}

// KPClient returns a real Key Protect client for apiKey on instanceID.
func (e *Env) KPClient(t testing.TB, apiKey, instanceID string) *kp.Client {
	t.Helper()
	c, err := kp.New(kp.ClientConfig{
		BaseURL: e.URL, APIKey: apiKey, TokenURL: e.URL + "/oidc/token",
		InstanceID: instanceID, Verbose: kp.VerboseNone,
	}, kp.DefaultTransport())
	require.NoError(t, err, "create kp client")
	return c
}

// OperatorClient is a Key Protect client of the operator (Manager) on the
// development instance.
func (e *Env) OperatorClient(t testing.TB) *kp.Client {
	return e.KPClient(t, e.Dev.OperatorAPIKey, e.Dev.KPInstanceID)
}

// ApproverClient is a Key Protect client of the approver, the second
// Manager of the development instance (the other person of a
// dual-authorization delete).
func (e *Env) ApproverClient(t testing.TB) *kp.Client {
	return e.KPClient(t, e.Dev.ApproverAPIKey, e.Dev.KPInstanceID)
}

// ServiceClient is a Key Protect client of the DBaaS service ID on the
// development instance.
func (e *Env) ServiceClient(t testing.TB) *kp.Client {
	return e.KPClient(t, e.Dev.ServiceAPIKey, e.Dev.KPInstanceID)
}

// PolicyClient is an IAM policy management client of the operator.
func (e *Env) PolicyClient(t testing.TB) *iampolicymanagementv1.IamPolicyManagementV1 {
	return e.PolicyClientFor(t, e.Dev.OperatorAPIKey)
}

// PolicyClientFor is an IAM policy management client for apiKey.
func (e *Env) PolicyClientFor(t testing.TB, apiKey string) *iampolicymanagementv1.IamPolicyManagementV1 {
	t.Helper()
	svc, err := iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{
		URL:           e.URL,
		Authenticator: &core.IamAuthenticator{ApiKey: apiKey, URL: e.URL},
	})
	require.NoError(t, err, "create policy client")
	return svc
}

// AuthorizeService creates, through the real IAM client, the step-2
// authorization policy (service -> kms instance, role Reader) and returns
// its ID; an existing identical policy is reused.
func (e *Env) AuthorizeService(t testing.TB) string {
	t.Helper()
	return e.AuthorizeServiceFor(t, e.Dev.KPInstanceID)
}

// AddKPInstance adds Key Protect instance id to the development account
// and gives the development operator Manager on it, as on the default
// instance.
func (e *Env) AddKPInstance(t testing.TB, id string) {
	t.Helper()
	d := e.Dev
	require.NoError(t, e.Server.AddKPInstance(d.AccountID, id), "add Key Protect instance %s", id)
	require.NoError(t, e.Server.AddUser(d.AccountID, d.OperatorAPIKey, d.OperatorIAMID,
		map[string]string{d.KPInstanceID: "Manager", id: "Manager"}), "grant the operator Manager on %s", id)
}

// AuthorizeServiceFor is AuthorizeService for Key Protect instance
// kpInstanceID.
func (e *Env) AuthorizeServiceFor(t testing.TB, kpInstanceID string) string {
	t.Helper()
	svc := e.PolicyClient(t)
	p, resp, err := svc.CreatePolicy(svc.NewCreatePolicyOptions("authorization",
		[]iampolicymanagementv1.PolicySubject{{Attributes: []iampolicymanagementv1.SubjectAttribute{
			{Name: core.StringPtr("accountId"), Value: core.StringPtr(e.Dev.AccountID)},
			{Name: core.StringPtr("serviceName"), Value: core.StringPtr(e.Dev.ServiceName)},
		}}},
		[]iampolicymanagementv1.PolicyRole{{RoleID: core.StringPtr("crn:v1:bluemix:public:iam::::serviceRole:Reader")}},
		[]iampolicymanagementv1.PolicyResource{{Attributes: []iampolicymanagementv1.ResourceAttribute{
			{Name: core.StringPtr("accountId"), Value: core.StringPtr(e.Dev.AccountID), Operator: core.StringPtr("stringEquals")},
			{Name: core.StringPtr("serviceName"), Value: core.StringPtr("kms"), Operator: core.StringPtr("stringEquals")},
			{Name: core.StringPtr("serviceInstance"), Value: core.StringPtr(kpInstanceID), Operator: core.StringPtr("stringEquals")},
		}}},
	))
	if resp != nil && resp.StatusCode == 409 {
		return e.existingPolicyID(t, err)
	}
	require.NoError(t, err, "create authorization policy")
	return *p.ID
}

func (e *Env) existingPolicyID(t testing.TB, conflict error) string {
	t.Helper()
	var problem *core.SDKProblem
	require.True(t, errors.As(conflict, &problem), "conflict error: %v", conflict)
	svc := e.PolicyClient(t)
	list, _, err := svc.ListPolicies(svc.NewListPoliciesOptions(e.Dev.AccountID).SetType("authorization"))
	require.NoError(t, err, "list policies")
	for _, p := range list.Policies {
		for _, a := range p.Subjects[0].Attributes {
			if *a.Name == "serviceName" && *a.Value == e.Dev.ServiceName {
				return *p.ID
			}
		}
	}
	require.FailNow(t, "authorization policy conflict but none found")
	return ""
}

// WithDevClock serves /admin/v1/clock, as the binary does with --dev.
func WithDevClock() Option { return func(c *emulator.Config) { c.DevClock = true } }

// Advance moves the emulator's clock forward by d (see
// emulator.Server.Advance) and returns the new time.
func (e *Env) Advance(t testing.TB, d time.Duration) time.Time {
	t.Helper()
	now, err := e.Server.Advance(d)
	require.NoError(t, err, "advance the emulator's clock by %s", d)
	return now
}
