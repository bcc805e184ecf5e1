package activities

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog/catalogtest"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator/emulatortest"
	"github.com/byokflow/byokflow/internal/ibmenv"
	"github.com/byokflow/byokflow/internal/testenv"
)

// Dial from the worker's environment variables, pointed at the emulator
// and the test database, serves the activities end to end.
func TestDial_FromEnvironment(t *testing.T) {
	dbURL := catalogURL(t)
	emu := emulatortest.Start(t)
	d := emu.Dev
	env, err := ibmenv.LoadEnv(envOf(map[string]string{"IBMCLOUD_API_KEY": d.OperatorAPIKey,
		"BYOK_SERVICE_API_KEY": d.ServiceAPIKey, "BYOK_KP_URL": emu.URL, "BYOK_KP_INSTANCE_ID": d.KPInstanceID,
		"BYOK_IAM_URL": emu.URL, "BYOK_ACCOUNT_ID": d.AccountID, "BYOK_DATABASE_URL": dbURL}))
	require.NoError(t, err)
	acts, err := Dial(context.Background(), env)
	require.NoError(t, err)
	t.Cleanup(acts.Close)
	key, err := emu.OperatorClient(t).CreateRootKey(context.Background(), "orders-root", nil)
	require.NoError(t, err)

	auth, err := acts.CheckServiceAuthorization(context.Background(),
		contract.CheckServiceAuthorizationInput{KPInstanceID: d.KPInstanceID, Create: true})
	require.NoError(t, err)
	require.True(t, auth.Created)
	valid, err := acts.ValidateRootKey(context.Background(), contract.ValidateRootKeyInput{RootKeyID: key.ID})
	require.NoError(t, err)
	require.Equal(t, key.KeyVersion.ID, valid.KeyVersionID)
	crn := instanceCRN(acts.cfg, "dial-db")
	require.NoError(t, acts.RegisterInstance(context.Background(), contract.RegisterInstanceInput{RootKeyID: key.ID, InstanceCRN: crn}))
	require.NoError(t, acts.DeregisterInstance(context.Background(), contract.DeregisterInstanceInput{RootKeyID: key.ID, InstanceCRN: crn}))
	_, err = acts.LoadInstance(context.Background(), contract.LoadInstanceInput{InstanceID: "dial-db"})
	requireTyped(t, err, contract.ErrTypeInstanceNotFound)
}

// catalogURL is BYOK_TEST_DATABASE with the search_path of a fresh schema,
// so the catalog Dial opens is this test's alone.
func catalogURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.DatabaseURL(t))
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", catalogtest.Config(t).ConnConfig.RuntimeParams["search_path"])
	u.RawQuery = q.Encode()
	return u.String()
}
