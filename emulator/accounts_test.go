package emulator_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestSetupDev_IdempotentFixedValues(t *testing.T) {
	s, err := emulator.New(emulator.Config{DataDir: t.TempDir(), ServiceName: "custom-svc"})
	require.NoError(t, err)
	first, err := s.SetupDev()
	require.NoError(t, err)
	second, err := s.SetupDev()
	require.NoError(t, err)
	require.Equal(t, first, second)
	require.Equal(t, emulator.DevAccount{
		AccountID: emulator.DevAccountID, OperatorAPIKey: emulator.DevOperatorAPIKey, OperatorIAMID: emulator.DevOperatorIAMID,
		ApproverAPIKey: emulator.DevApproverAPIKey, ApproverIAMID: emulator.DevApproverIAMID,
		ServiceAPIKey: emulator.DevServiceAPIKey, ServiceIAMID: emulator.DevServiceIAMID, ServiceName: "custom-svc",
		KPInstanceID: emulator.DevKPInstanceID, PlatformAccountID: emulator.DevPlatformAccountID,
		CodecAPIKey: emulator.DevCodecAPIKey, CodecIAMID: emulator.DevCodecIAMID, CodecKPInstanceID: emulator.DevCodecKPInstanceID,
	}, first)
	require.Equal(t, []string{
		"export IBMCLOUD_API_KEY=" + emulator.DevOperatorAPIKey,
		"export BYOK_SERVICE_API_KEY=" + emulator.DevServiceAPIKey,
		"export BYOK_SERVICE_NAME=custom-svc",
		"export BYOK_KP_URL=http://h:1",
		"export BYOK_KP_INSTANCE_ID=" + emulator.DevKPInstanceID,
		"export BYOK_IAM_URL=http://h:1",
		"export BYOK_ACCOUNT_ID=" + emulator.DevAccountID,
		"export BYOK_CODEC_API_KEY=" + emulator.DevCodecAPIKey,
		"export BYOK_CODEC_KP_INSTANCE_ID=" + emulator.DevCodecKPInstanceID,
		"export BYOK_DEV_APPROVER_API_KEY=" + emulator.DevApproverAPIKey,
	}, first.ExportLines("http://h:1"))
}

func TestSetupDev_OlderDataDirGainsApprover(t *testing.T) {
	dir := t.TempDir()
	old, err := emulator.New(emulator.Config{DataDir: dir})
	require.NoError(t, err)
	require.NoError(t, old.AddAccount(emulator.DevAccountID))
	require.NoError(t, old.AddKPInstance(emulator.DevAccountID, emulator.DevKPInstanceID))
	require.NoError(t, old.AddUser(emulator.DevAccountID, emulator.DevOperatorAPIKey, emulator.DevOperatorIAMID,
		map[string]string{emulator.DevKPInstanceID: "Manager"}))
	require.NoError(t, old.Close())

	env := emulatortest.Start(t, emulatortest.WithDataDir(dir))
	k := rootKey(t, env.OperatorClient(t), "from before")
	got, err := env.ApproverClient(t).GetKey(ctx, k.ID)
	require.NoError(t, err, "the approver exists and is Manager on the dev instance")
	require.Equal(t, k.ID, got.ID)
}

func TestAddIdentity_Rules(t *testing.T) {
	s, err := emulator.New(emulator.Config{})
	require.NoError(t, err)
	require.NoError(t, s.AddAccount("a1"))
	require.NoError(t, s.AddAccount("a2"))
	require.NoError(t, s.AddKPInstance("a1", "i1"))
	require.NoError(t, s.AddUser("a1", "k1", "u1", map[string]string{"i1": "Reader"}))
	require.NoError(t, s.AddUser("a1", "k1b", "u1", map[string]string{"i1": "Manager"}), "update in place")
	tests := map[string]error{
		"instance of missing account": s.AddKPInstance("nope", "i2"),
		"instance moved to account":   s.AddKPInstance("a2", "i1"),
		"user of missing account":     s.AddUser("nope", "k2", "u2", nil),
		"unknown role":                s.AddUser("a1", "k3", "u3", map[string]string{"i1": "Owner"}),
		"user moved to account":       s.AddUser("a2", "k4", "u1", nil),
		"API key reused":              s.AddServiceID("a1", "svc", "k1b", "s1"),
		"empty service name":          s.AddServiceID("a1", "", "k5", "s2"),
		"empty account":               s.AddAccount(""),
	}
	for name, err := range tests {
		t.Run(name, func(t *testing.T) { require.Error(t, err) })
	}
}
