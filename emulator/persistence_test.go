package emulator_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// persisted is what the first emulator made, to be found after restart.
type persisted struct {
	rotated, suspended, deleted, standard *kp.Key
	ctOld, ctNew                          []byte
	payload                               string
	policyID, token                       string
}

func populate(t *testing.T, env *emulatortest.Env) persisted {
	c := env.OperatorClient(t)
	var p persisted
	p.rotated = rootKey(t, c, "rotated")
	var err error
	p.ctOld, err = c.Wrap(ctx, p.rotated.ID, b64(dek(1)), &[]string{"aad"})
	require.NoError(t, err)
	require.NoError(t, c.Rotate(ctx, p.rotated.ID, ""))
	p.ctNew, err = c.Wrap(ctx, p.rotated.ID, b64(dek(2)), nil)
	require.NoError(t, err)
	_, err = c.CreateKeyAlias(ctx, "rotated-alias", p.rotated.ID)
	require.NoError(t, err)
	_, err = c.SetRotationPolicy(ctx, p.rotated.ID, 5)
	require.NoError(t, err)
	p.suspended = rootKey(t, c, "suspended")
	require.NoError(t, c.DisableKey(ctx, p.suspended.ID))
	p.deleted = rootKey(t, c, "deleted")
	_, err = c.DeleteKey(ctx, p.deleted.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	p.payload = string(b64([]byte("standard material")))
	p.standard, err = c.CreateImportedStandardKey(ctx, "standard", nil, p.payload)
	require.NoError(t, err)
	require.NoError(t, c.SetDualAuthInstancePolicy(ctx, true))
	require.NoError(t, c.CreateKeyRing(ctx, "kept-ring"))
	p.policyID = env.AuthorizeService(t)
	env.Register(t, p.rotated.ID, crnA, true)
	require.NoError(t, env.Server.AddAccount("acct-2"))
	require.NoError(t, env.Server.AddKPInstance("acct-2", "inst-2"))
	require.NoError(t, env.Server.AddUser("acct-2", "user-2-key", "IBMid-user-2", map[string]string{"inst-2": "Writer"}))
	p.token = env.Token(t, env.Dev.OperatorAPIKey)
	return p
}

func TestRestart_LosesNothing(t *testing.T) {
	first := emulatortest.Start(t)
	p := populate(t, first)
	require.NoError(t, first.Server.Close())
	second := emulatortest.Start(t, emulatortest.WithDataDir(first.DataDir))
	c := second.OperatorClient(t)

	got, err := c.GetKey(ctx, "rotated-alias")
	require.NoError(t, err)
	require.Equal(t, p.rotated.ID, got.ID)
	require.Equal(t, 5, got.Rotation.Interval)
	vs, err := c.ListKeyVersions(ctx, p.rotated.ID, nil)
	require.NoError(t, err)
	require.Len(t, vs.KeyVersion, 2)

	svc := second.ServiceClient(t)
	pt, hint, err := svc.UnwrapV2(ctx, p.rotated.ID, p.ctOld, &[]string{"aad"})
	require.NoError(t, err, "the authorization policy survived too")
	require.Equal(t, b64(dek(1)), pt)
	require.NotEmpty(t, hint)
	pt, err = svc.Unwrap(ctx, p.rotated.ID, p.ctNew, nil)
	require.NoError(t, err)
	require.Equal(t, b64(dek(2)), pt)

	for id, state := range map[string]kp.KeyState{p.suspended.ID: kp.Suspended, p.deleted.ID: kp.Destroyed} {
		k, err := c.GetKeyMetadata(ctx, id)
		require.NoError(t, err)
		require.Equal(t, int(state), k.State)
	}
	std, err := c.GetKey(ctx, p.standard.ID)
	require.NoError(t, err)
	require.Equal(t, p.payload, std.Payload)

	da, err := c.GetDualAuthInstancePolicy(ctx)
	require.NoError(t, err)
	require.True(t, *da.PolicyData.Enabled)
	rings, err := c.GetKeyRings(ctx)
	require.NoError(t, err)
	require.Len(t, rings.KeyRings, 2)
	regs, err := c.ListRegistrations(ctx, p.rotated.ID, "")
	require.NoError(t, err)
	require.Len(t, regs.Registrations, 1)
	require.True(t, regs.Registrations[0].PreventKeyDeletion)

	pc := second.PolicyClient(t)
	pol, _, err := pc.GetPolicy(pc.NewGetPolicyOptions(p.policyID))
	require.NoError(t, err)
	require.Equal(t, "Reader", *pol.Roles[0].DisplayName)
	_, err = second.KPClient(t, "user-2-key", "inst-2").CreateRootKey(ctx, "second-account", nil)
	require.NoError(t, err, "accounts, instances and users survived")
	resp := second.Do(t, http.MethodGet, "/api/v2/keys", p.token, nil, nil)
	require.Equal(t, http.StatusOK, resp.Status, "tokens survive a restart")
}

func TestRestart_DataDirFiles(t *testing.T) {
	env := emulatortest.Start(t)
	rootKey(t, env.OperatorClient(t), "on-disk")
	for _, name := range []string{"master.key", "token.key", "state.json"} {
		fi, err := os.Stat(filepath.Join(env.DataDir, name))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
	state, err := os.ReadFile(filepath.Join(env.DataDir, "state.json"))
	require.NoError(t, err)
	require.NotContains(t, string(state), env.Dev.OperatorAPIKey, "API keys are stored hashed")
	leftovers, err := filepath.Glob(filepath.Join(env.DataDir, ".*tmp*"))
	require.NoError(t, err)
	require.Empty(t, leftovers)
}

func TestRestart_WrongMasterKeyFails(t *testing.T) {
	env := emulatortest.Start(t)
	rootKey(t, env.OperatorClient(t), "sealed")
	require.NoError(t, env.Server.Close())
	require.NoError(t, os.WriteFile(filepath.Join(env.DataDir, "master.key"), make([]byte, 32), 0o600))
	_, err := emulator.New(emulator.Config{DataDir: env.DataDir})
	require.ErrorContains(t, err, "wrong master key")
}

func TestWrapUnwrap_DoNotWriteState(t *testing.T) {
	env := emulatortest.Start(t)
	k := rootKey(t, env.OperatorClient(t), "quiet")
	path := filepath.Join(env.DataDir, "state.json")
	before, err := os.Stat(path)
	require.NoError(t, err)
	c := env.OperatorClient(t)
	ct, err := c.Wrap(ctx, k.ID, b64(dek(1)), nil)
	require.NoError(t, err)
	_, err = c.Unwrap(ctx, k.ID, ct, nil)
	require.NoError(t, err)
	after, err := os.Stat(path)
	require.NoError(t, err)
	require.True(t, os.SameFile(before, after), "state.json was not replaced")
	require.Equal(t, before.ModTime(), after.ModTime())
}

func TestClose_RefusesChanges(t *testing.T) {
	env := emulatortest.Start(t)
	require.NoError(t, env.Server.Close())
	require.Error(t, env.Server.AddAccount("late"))
}
