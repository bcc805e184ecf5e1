package activities

import (
	"context"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestRotateKey_RotatesOnceOnly(t *testing.T) {
	h := newHarness(t)
	key := h.rootKey("orders-root")
	from := key.KeyVersion.ID
	in := contract.RotateKeyInput{RootKeyID: key.ID, FromVersionID: from}

	var first, again contract.RotateKeyResult
	require.NoError(t, h.run(contract.ActivityRotateKey, in, &first))
	require.NoError(t, h.run(contract.ActivityRotateKey, in, &again))

	require.True(t, first.Rotated)
	require.NotEqual(t, from, first.KeyVersionID)
	require.Equal(t, contract.RotateKeyResult{KeyVersionID: first.KeyVersionID, Rotated: false}, again,
		"a retry from the same version finds the key rotated")
	require.Equal(t, []string{first.KeyVersionID, from}, h.versions(key.ID))
	require.EqualValues(t, 1, h.emu.Server.Stats()[emulator.OpRotate])
}

func TestRotateKey_RotatedOutsideIsNotRotatedAgain(t *testing.T) {
	h := newHarness(t)
	key := h.rootKey("orders-root")
	require.NoError(t, h.operator.RotateV2(context.Background(), key.ID, nil), "rotated by hand")
	h.emu.Server.ResetStats()

	var res contract.RotateKeyResult
	err := h.run(contract.ActivityRotateKey, contract.RotateKeyInput{RootKeyID: key.ID,
		FromVersionID: key.KeyVersion.ID}, &res)

	require.NoError(t, err)
	require.Equal(t, contract.RotateKeyResult{KeyVersionID: h.versions(key.ID)[0]}, res)
	require.Zero(t, h.emu.Server.Stats()[emulator.OpRotate])
}

func TestRotateKey_WithinIntervalFailsRotationTooSoon(t *testing.T) {
	h := newHarness(t, emulatortest.WithTiming(emulator.Timing{RotationInterval: time.Hour}))
	key := h.rootKey("orders-root")
	var first contract.RotateKeyResult
	require.NoError(t, h.run(contract.ActivityRotateKey,
		contract.RotateKeyInput{RootKeyID: key.ID, FromVersionID: key.KeyVersion.ID}, &first))

	err := h.run(contract.ActivityRotateKey,
		contract.RotateKeyInput{RootKeyID: key.ID, FromVersionID: first.KeyVersionID}, nil)

	requireTyped(t, err, contract.ErrTypeRotationTooSoon, "rotate root key "+key.ID,
		"rotated within the last hour", "one rotation per hour", "retry later", "--rewrap-only")
	require.Len(t, h.versions(key.ID), 2)
}

func TestRotateKey_UnusableKeys(t *testing.T) {
	tests := []struct {
		name      string
		key       func(h *harness) string
		wantType  string
		fragments []string
	}{
		{"disabled", func(h *harness) string { return h.disabledKey("off") },
			contract.ErrTypeKeySuspended, []string{"the key is Suspended", "ibmcloud kp key enable"}},
		{"destroyed", func(h *harness) string { return h.destroyedKey("gone") },
			contract.ErrTypeKeyDestroyed, []string{"the key is Destroyed", "restore it within 30 days"}},
		{"unknown", func(*harness) string { return "0f0e0d0c-0b0a-4908-8706-050403020100" },
			contract.ErrTypeKeyNotFound, []string{"not found in Key Protect instance"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			keyID := tt.key(h)

			rotateErr := h.run(contract.ActivityRotateKey, contract.RotateKeyInput{RootKeyID: keyID, FromVersionID: keyID}, nil)
			readErr := h.run(contract.ActivityReadKeyVersion, contract.ReadKeyVersionInput{RootKeyID: keyID}, nil)

			requireTyped(t, rotateErr, tt.wantType, append(tt.fragments, "rotate root key "+keyID)...)
			requireTyped(t, readErr, tt.wantType, append(tt.fragments, "read key version of root key "+keyID)...)
			require.Zero(t, h.emu.Server.Stats()[emulator.OpRotate])
		})
	}
}

func TestRotateKey_WithoutFromVersionIsInvalidInput(t *testing.T) {
	h := newHarness(t)
	key := h.rootKey("orders-root")

	err := h.run(contract.ActivityRotateKey, contract.RotateKeyInput{RootKeyID: key.ID}, nil)

	requireTyped(t, err, contract.ErrTypeInvalidInput, "no recorded key version", "--rewrap-only")
	require.Len(t, h.versions(key.ID), 1)
}

func TestReadKeyVersion_ReturnsCurrentVersion(t *testing.T) {
	h := newHarness(t)
	key := h.rootKey("orders-root")
	require.NoError(t, h.operator.RotateV2(context.Background(), key.ID, nil))

	var res contract.ReadKeyVersionResult
	require.NoError(t, h.run(contract.ActivityReadKeyVersion, contract.ReadKeyVersionInput{RootKeyID: key.ID}, &res))

	require.Equal(t, h.versions(key.ID)[0], res.KeyVersionID)
	require.NotEqual(t, key.KeyVersion.ID, res.KeyVersionID)
}

// versions lists the key's version ids, newest first.
func (h *harness) versions(keyID string) []string {
	h.t.Helper()
	list, err := h.operator.ListKeyVersions(context.Background(), keyID, &kp.ListKeyVersionsOptions{})
	require.NoError(h.t, err)
	var ids []string
	for _, v := range list.KeyVersion {
		ids = append(ids, v.ID)
	}
	return ids
}
