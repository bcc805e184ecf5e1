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

func TestSync_Accepted(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "synced")
	require.NoError(t, c.SyncAssociatedResources(ctx, k.ID))
	resp := env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/sync", env.Token(t, env.Dev.OperatorAPIKey), nil, nil)
	require.Equal(t, http.StatusNoContent, resp.Status)
	require.Empty(t, resp.Body)
}

func TestSync_OncePerInterval(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithTiming(emulator.Timing{SyncInterval: time.Hour}))
	c := env.OperatorClient(t)
	k := rootKey(t, c, "synced")
	other := rootKey(t, c, "other")
	require.NoError(t, c.SyncAssociatedResources(ctx, k.ID))
	requireKPErr(t, c.SyncAssociatedResources(ctx, k.ID), http.StatusConflict, "REQ_TOO_EARLY_ERR")
	require.NoError(t, c.SyncAssociatedResources(ctx, other.ID), "the interval is per key")
	env.Advance(t, 59*time.Minute)
	requireKPErr(t, env.OperatorClient(t).SyncAssociatedResources(ctx, k.ID), http.StatusConflict, "REQ_TOO_EARLY_ERR")
	env.Advance(t, time.Minute)
	require.NoError(t, env.OperatorClient(t).SyncAssociatedResources(ctx, k.ID))
}

func TestSync_States(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	std, err := c.CreateStandardKey(ctx, "standard", nil)
	require.NoError(t, err)
	requireKPErr(t, c.SyncAssociatedResources(ctx, std.ID), http.StatusBadRequest, "KEY_ROOT_REQ_ERR")

	suspended := rootKey(t, c, "suspended")
	require.NoError(t, c.DisableKey(ctx, suspended.ID))
	require.NoError(t, c.SyncAssociatedResources(ctx, suspended.ID), "a suspended key syncs")
	deleted := rootKey(t, c, "deleted")
	_, err = c.DeleteKey(ctx, deleted.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	require.NoError(t, c.SyncAssociatedResources(ctx, deleted.ID), "renotifying a deletion is what sync is for")
	_, err = c.PurgeKey(ctx, deleted.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	requireKPErr(t, c.SyncAssociatedResources(ctx, deleted.ID), http.StatusNotFound, "KEY_NOT_FOUND_ERR")
	requireKPErr(t, env.ServiceClient(t).SyncAssociatedResources(ctx, suspended.ID), http.StatusForbidden, "")
}
