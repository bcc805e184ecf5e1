package activities

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/catalog/catalogtest"
	"github.com/byokflow/byokflow/emulator/emulatortest"
	"github.com/byokflow/byokflow/internal/ibmenv"
)

// harness runs the activities, registered under their contract names, in
// Temporal's activity test environment, with the real IBM clients pointed
// at an in-process emulator.
type harness struct {
	t        *testing.T
	emu      *emulatortest.Env
	acts     *Activities
	env      *testsuite.TestActivityEnvironment
	operator *kp.Client // for test setup and checks
	cat      *catalog.Catalog
}

// newHarness builds the activities without a catalog (tier 2).
func newHarness(t *testing.T, opts ...emulatortest.Option) *harness {
	t.Helper()
	emu := emulatortest.Start(t, opts...)
	h := &harness{t: t, emu: emu, operator: emu.OperatorClient(t)}
	h.build(Clients{})
	return h
}

// newCatalogHarness adds a catalog in a fresh schema on BYOK_TEST_DATABASE
// (tier 3; skipped without it).
func newCatalogHarness(t *testing.T) *harness {
	t.Helper()
	cat := catalogtest.Open(t)
	h := newHarness(t)
	h.cat = cat
	h.build(Clients{Catalog: cat})
	return h
}

// build (re)creates the activities over the emulator's environment, as
// Dial wires them, plus extra clients.
func (h *harness) build(extra Clients) {
	h.t.Helper()
	clients, err := dialIBM(h.emuEnv())
	require.NoError(h.t, err)
	clients.Catalog = extra.Catalog
	h.acts = New(ConfigOf(h.emuEnv()), clients)
	var suite testsuite.WorkflowTestSuite
	// Expected activity failures would otherwise fill the test output.
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	h.env = suite.NewTestActivityEnvironment()
	h.acts.Register(h.env)
}

// emuEnv is the worker environment of the emulator's development account.
func (h *harness) emuEnv() ibmenv.Env {
	d := h.emu.Dev
	return ibmenv.Read(envOf(map[string]string{"IBMCLOUD_API_KEY": d.OperatorAPIKey,
		"BYOK_SERVICE_API_KEY": d.ServiceAPIKey, "BYOK_SERVICE_NAME": d.ServiceName, "BYOK_KP_URL": h.emu.URL,
		"BYOK_KP_INSTANCE_ID": d.KPInstanceID, "BYOK_IAM_URL": h.emu.URL, "BYOK_ACCOUNT_ID": d.AccountID,
		"BYOK_DATABASE_URL": "postgres://unused"}))
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// run executes the activity registered as name and decodes its result
// into out (nil for none).
func (h *harness) run(name string, in any, out any) error {
	h.t.Helper()
	val, err := h.env.ExecuteActivity(name, in)
	if err != nil || out == nil {
		return err
	}
	require.NoError(h.t, val.Get(out))
	return nil
}

// rootKey creates an Active root key with the operator client.
func (h *harness) rootKey(name string) *kp.Key {
	h.t.Helper()
	k, err := h.operator.CreateRootKey(context.Background(), name, nil)
	require.NoError(h.t, err)
	return k
}

// requireTyped asserts err is a non-retryable application error of
// errType whose message contains every fragment.
func requireTyped(t *testing.T, err error, errType string, fragments ...string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want application error %s, got %v", errType, err)
	require.Equal(t, errType, appErr.Type(), appErr.Error())
	require.True(t, appErr.NonRetryable(), "%s must not be retried", errType)
	for _, f := range fragments {
		require.Contains(t, appErr.Message(), f)
	}
}

// requireRetryable asserts err is an error Temporal retries.
func requireRetryable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		require.False(t, appErr.NonRetryable(), "want a retryable error, got %v", err)
	}
}
