package emulator_test

import (
	"net/http"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

const day = 24 * time.Hour

// policyKey is a root key with a rotation policy of months, and a
// ciphertext wrapped under its first version.
func policyKey(t *testing.T, env *emulatortest.Env, months int) (*kp.Key, []byte) {
	t.Helper()
	c := env.OperatorClient(t)
	k := rootKey(t, c, "policy-rotated")
	ct, err := c.Wrap(ctx, k.ID, b64(dek(7)), &[]string{"aad"})
	require.NoError(t, err)
	_, err = c.SetRotationPolicy(ctx, k.ID, months)
	require.NoError(t, err)
	return k, ct
}

// versions lists a key's versions, newest first, with a new client: a
// client's cached token may have expired when the clock moved.
func versions(t *testing.T, env *emulatortest.Env, id string) []kp.KeyVersion {
	t.Helper()
	vs, err := env.OperatorClient(t).ListKeyVersions(ctx, id, &kp.ListKeyVersionsOptions{AllKeyStates: ptrTo(true)})
	require.NoError(t, err)
	return vs.KeyVersion
}

func TestPolicyRotation_AfterInterval(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k, ct := policyKey(t, env, 1)
	due := k.CreationDate.AddDate(0, 1, 0)

	env.Advance(t, 31*day)    // a month is at most 31 days, two at least 59
	c = env.OperatorClient(t) // the old one's token has expired

	vs := versions(t, env, k.ID)
	require.Len(t, vs, 2, "exactly one rotation")
	require.NotEqual(t, k.ID, vs[0].ID)
	require.True(t, due.Equal(*vs[0].CreationDate), "created at the due moment %s, got %s", due, vs[0].CreationDate)
	meta, err := c.GetKeyMetadata(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, vs[0].ID, meta.KeyVersion.ID, "metadata shows the new version")
	require.True(t, due.Equal(*meta.LastRotateDate), "lastRotateDate %s", meta.LastRotateDate)
	require.True(t, due.Equal(*meta.LastUpdateDate), "lastUpdateDate %s", meta.LastUpdateDate)

	var unwrapped struct {
		Plaintext           string `json:"plaintext"`
		KeyVersion          struct{ ID string }
		RewrappedKeyVersion struct{ ID string }
	}
	resp := env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/unwrap", env.Token(t, env.Dev.OperatorAPIKey),
		map[string]any{"ciphertext": string(ct), "aad": []string{"aad"}}, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &unwrapped)
	require.Equal(t, string(b64(dek(7))), unwrapped.Plaintext, "old ciphertext still unwraps")
	require.Equal(t, k.ID, unwrapped.KeyVersion.ID)
	require.Equal(t, vs[0].ID, unwrapped.RewrappedKeyVersion.ID)

	recs := env.Server.Activity(emulator.ActivityFilter{KeyID: k.ID, Action: emulator.OpRotate})
	require.Len(t, recs, 1)
	require.Equal(t, emulator.PolicyIAMID, recs[0].IAMID)
	require.True(t, due.Equal(recs[0].Time))
	require.Equal(t, env.Dev.KPInstanceID, recs[0].InstanceID)
	require.Equal(t, "success", recs[0].Outcome)
}

func TestPolicyRotation_OnePerElapsedInterval(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	k, _ := policyKey(t, env, 1)

	env.Advance(t, 93*day) // three months are at most 92 days, four at least 120

	vs := versions(t, env, k.ID)
	require.Len(t, vs, 4, "one version per elapsed month")
	want := *k.CreationDate
	for i := 2; i >= 0; i-- {
		want = want.AddDate(0, 1, 0)
		require.True(t, want.Equal(*vs[i].CreationDate), "version %d at %s, got %s", i, want, vs[i].CreationDate)
	}
	require.Len(t, env.Server.Activity(emulator.ActivityFilter{KeyID: k.ID, Action: emulator.OpRotate}), 3)
}

func TestPolicyRotation_NotBeforeDue(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	k, _ := policyKey(t, env, 2)
	env.Advance(t, 58*day) // two months are at least 59 days
	require.Len(t, versions(t, env, k.ID), 1)
}

func TestPolicyRotation_DisabledPolicy(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k, _ := policyKey(t, env, 1)
	_, err := c.DisableRotationPolicy(ctx, k.ID)
	require.NoError(t, err)
	env.Advance(t, 62*day)
	require.Len(t, versions(t, env, k.ID), 1)
}

func TestPolicyRotation_ImportedKeyNever(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k, err := c.CreateImportedRootKey(ctx, "imported", nil, string(b64(dek(3))), "", "")
	require.NoError(t, err)
	_, err = c.SetRotationPolicy(ctx, k.ID, 1)
	require.NoError(t, err, "the policy is stored")
	env.Advance(t, 62*day)
	require.Len(t, versions(t, env, k.ID), 1, "Key Protect has no material to rotate an imported key with")
}

func TestPolicyRotation_SuspendedKeyWaitsForEnable(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k, _ := policyKey(t, env, 1)
	require.NoError(t, c.DisableKey(ctx, k.ID))
	env.Advance(t, 40*day)
	require.Len(t, versions(t, env, k.ID), 1, "no rotation while suspended")

	enabledAt := env.Server.Now()
	c = env.OperatorClient(t)
	require.NoError(t, c.EnableKey(ctx, k.ID))
	vs := versions(t, env, k.ID)
	require.Len(t, vs, 2, "an overdue key rotates once it is active again")
	require.WithinDuration(t, enabledAt, *vs[0].CreationDate, 5*time.Second)
}

func TestPolicyRotation_ManualRotateMovesTheSchedule(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k, _ := policyKey(t, env, 1)
	env.Advance(t, 20*day)
	c = env.OperatorClient(t)
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	env.Advance(t, 20*day) // 40 days after creation, 20 after the manual rotation
	require.Len(t, versions(t, env, k.ID), 2, "only the manual rotation")
}

func TestPolicyRotation_SurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first := emulatortest.Start(t, emulatortest.WithDataDir(dir))
	k, _ := policyKey(t, first, 1)
	first.Advance(t, 31*day)
	want := versions(t, first, k.ID)
	require.Len(t, want, 2)
	require.NoError(t, first.Server.Close())

	second := emulatortest.Start(t, emulatortest.WithDataDir(dir))
	require.Equal(t, want, versions(t, second, k.ID), "no rotation twice after a restart")
}
