package activities

import (
	"context"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

func (h *harness) deleteRootKey(keyID string) (contract.DeleteRootKeyResult, error) {
	h.t.Helper()
	var res contract.DeleteRootKeyResult
	err := h.run(contract.ActivityDeleteRootKey, contract.DeleteRootKeyInput{RootKeyID: keyID,
		InstanceID: "orders-db", RequestedBy: "alice"}, &res)
	return res, err
}

func (h *harness) keyState(keyID string) contract.RootKeyState {
	h.t.Helper()
	var s contract.RootKeyState
	require.NoError(h.t, h.run(contract.ActivityGetKeyState, contract.GetKeyStateInput{RootKeyID: keyID}, &s))
	return s
}

func TestDeleteRootKey_PlainThenAlreadyDeleted(t *testing.T) {
	h := newCatalogHarness(t)
	key := h.rootKey("orders-root")
	require.Equal(t, contract.RootKeyState{RootKeyID: key.ID, State: contract.KPStateActive, StateName: "Active",
		KeyVersionID: key.KeyVersion.ID}, h.keyState(key.ID))

	first, err := h.deleteRootKey(key.ID)
	require.NoError(t, err)
	again, err := h.deleteRootKey(key.ID)
	require.NoError(t, err, "a retry finds the key deleted")

	require.False(t, first.Forced)
	require.False(t, first.AlreadyDeleted)
	require.WithinDuration(t, time.Now(), first.DeletionDate, time.Minute)
	require.Equal(t, h.emu.Dev.OperatorIAMID, first.DeletedBy)
	require.True(t, again.AlreadyDeleted)
	state := h.keyState(key.ID)
	require.Equal(t, contract.KPStateDestroyed, state.State)
	require.Equal(t, "Destroyed", state.StateName)
	require.Equal(t, first.DeletionDate, state.DeletionDate)
	require.Equal(t, 1, countOps(h.auditOps("orders-db"), "key.delete"))
}

func TestDeleteRootKey_RemainingRegistrationForcesDeletion(t *testing.T) {
	h := newCatalogHarness(t)
	h.emu.AuthorizeService(t)
	key := h.rootKey("orders-root")
	h.goneInstance("failed-db", key.ID)
	h.emu.Register(t, key.ID, instanceCRN(h.acts.cfg, "failed-db"), false)

	res, err := h.deleteRootKey(key.ID)

	require.NoError(t, err)
	require.True(t, res.Forced)
	require.Equal(t, contract.KPStateDestroyed, h.keyState(key.ID).State)
	require.EqualValues(t, 2, h.emu.Server.Stats()[emulator.OpDeleteKey], "plain, then forced")
}

// goneInstance records instance id on keyID and marks it failed: a
// registration of its CRN is byokflow's own, left behind.
func (h *harness) goneInstance(id, keyID string) {
	h.t.Helper()
	h.instanceOn(id, keyID)
	require.NoError(h.t, h.cat.SetInstanceState(context.Background(), id, catalog.InstanceFailed, "x"))
}

func TestDeleteRootKey_ForeignRegistrationIsNeverForced(t *testing.T) {
	h := newCatalogHarness(t)
	h.emu.AuthorizeService(t)
	key := h.rootKey("orders-root")
	foreign := "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:bucket:logs"
	h.emu.Register(t, key.ID, foreign, false)

	_, err := h.deleteRootKey(key.ID)

	requireTyped(t, err, contract.ErrTypeForeignRegistrations, foreign, "no flag overrides this")
	require.Equal(t, contract.KPStateActive, h.keyState(key.ID).State)
	require.EqualValues(t, 1, h.emu.Server.Stats()[emulator.OpDeleteKey], "never forced")
}

func TestDeleteRootKey_RetentionPolicyIsBlocked(t *testing.T) {
	h := newCatalogHarness(t)
	h.emu.AuthorizeService(t)
	key := h.rootKey("orders-root")
	h.goneInstance("kept-db", key.ID)
	h.emu.Register(t, key.ID, instanceCRN(h.acts.cfg, "kept-db"), true)

	_, err := h.deleteRootKey(key.ID)

	requireTyped(t, err, contract.ErrTypeKeyDeletionBlocked, "delete root key "+key.ID, "PREV_KEY_DEL_ERR",
		"retention policy (preventKeyDeletion)", "run the crypto-shred again")
	require.Equal(t, contract.KPStateActive, h.keyState(key.ID).State)
}

func TestDeleteRootKey_DualAuthWaitsForSecondUser(t *testing.T) {
	h := newCatalogHarness(t)
	key := h.rootKey("orders-root")
	_, err := h.operator.SetDualAuthDeletePolicy(context.Background(), key.ID, true)
	require.NoError(t, err)
	require.True(t, h.keyState(key.ID).DualAuthDelete)

	_, pending := h.deleteRootKey(key.ID)
	require.NoError(t, h.operator.InitiateDualAuthDelete(context.Background(), key.ID))
	_, samePerson := h.deleteRootKey(key.ID)
	require.NoError(t, h.secondUser().InitiateDualAuthDelete(context.Background(), key.ID))
	res, err := h.deleteRootKey(key.ID)

	for _, e := range []error{pending, samePerson} {
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, e, &appErr)
		require.Equal(t, contract.RetryTypeDualAuthPending, appErr.Type())
		require.False(t, appErr.NonRetryable(), "the workflow's retry policy waits")
		require.Contains(t, appErr.Message(), "waiting for the second authorization of the key deletion")
		require.Contains(t, appErr.Message(), "ibmcloud kp key schedule-delete "+key.ID)
		require.Equal(t, time.Minute, appErr.NextRetryDelay(), "Key Protect is asked again in a minute")
	}
	require.NoError(t, err)
	require.False(t, res.AlreadyDeleted)
	require.Equal(t, contract.KPStateDestroyed, h.keyState(key.ID).State)
}

func TestDeleteRootKey_UnknownKeyIsKeyNotFound(t *testing.T) {
	h := newCatalogHarness(t)

	_, err := h.deleteRootKey("0f0e0d0c-0b0a-4908-8706-050403020100")

	requireTyped(t, err, contract.ErrTypeKeyNotFound, "delete root key 0f0e0d0c-0b0a-4908-8706-050403020100")
}

// secondUser is a Key Protect client of another Manager of the instance.
func (h *harness) secondUser() *kp.Client {
	h.t.Helper()
	const apiKey = "byok-test-second-manager-apikey-000000000001"
	d := h.emu.Dev
	require.NoError(h.t, h.emu.Server.AddUser(d.AccountID, apiKey, "IBMid-second-manager",
		map[string]string{d.KPInstanceID: "Manager"}))
	return h.emu.KPClient(h.t, apiKey, d.KPInstanceID)
}
