package emulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

type clockAnswer struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

func TestClockEndpoint_RefusedWithoutDevClock(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/admin/v1/clock", "", nil, nil).Status)
	resp := env.Do(t, http.MethodPost, "/admin/v1/clock", "", map[string]string{"advance": "1h"}, nil)
	require.Equal(t, http.StatusNotFound, resp.Status)
	require.WithinDuration(t, time.Now(), env.Server.Now(), time.Minute, "the clock did not move")
}

func TestClockEndpoint_Advances(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithDevClock())
	var before, after clockAnswer
	resp := env.Do(t, http.MethodGet, "/admin/v1/clock", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &before)
	require.Equal(t, "0s", before.Offset)

	resp = env.Do(t, http.MethodPost, "/admin/v1/clock", "", map[string]string{"advance": "720h"}, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &after)
	require.Equal(t, "720h0m0s", after.Offset)
	require.WithinDuration(t, before.Now.Add(720*time.Hour), after.Now, 5*time.Second)
	require.WithinDuration(t, after.Now, env.Server.Now(), 5*time.Second)
}

func TestClockEndpoint_BadBodies(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithDevClock())
	for _, body := range []any{nil, "{}", map[string]string{"advance": "soon"}, map[string]string{"advance": "-1h"}} {
		resp := env.Do(t, http.MethodPost, "/admin/v1/clock", "", body, nil)
		require.Equal(t, http.StatusBadRequest, resp.Status, "%v: %s", body, resp.Body)
	}
	require.Equal(t, http.StatusMethodNotAllowed, env.Do(t, http.MethodDelete, "/admin/v1/clock", "", nil, nil).Status)
	_, err := env.Server.Advance(-time.Second)
	require.Error(t, err, "time does not go back")
}

func TestClockEndpoint_NeverFaulted(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithDevClock())
	env.Server.SetFaults(emulator.Faults{Rate503: 1})
	resp := env.Do(t, http.MethodPost, "/admin/v1/clock", "", map[string]string{"advance": "1m"}, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

func TestClock_AdvanceKeepsClientsWorking(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithDevClock())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	c := env.OperatorClient(t)
	_, err := c.GetKeys(ctx, 1, 0)
	require.NoError(t, err)
	env.Do(t, http.MethodPost, "/admin/v1/clock", "", map[string]string{"advance": "744h"}, nil)
	require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/api/v2/keys", tok, nil, nil).Status,
		"a token lives in the clients' time, not the keys'")
	_, err = c.GetKeys(ctx, 1, 0)
	require.NoError(t, err, "a long-lived client keeps its token across an advance")
}

func TestClock_AdvanceOpensTheEnableDelay(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithDevClock(),
		emulatortest.WithTiming(emulator.DefaultTiming()))
	c := env.OperatorClient(t)
	k := rootKey(t, c, "delayed")
	require.NoError(t, c.DisableKey(ctx, k.ID))
	requireKPErr(t, c.EnableKey(ctx, k.ID), http.StatusConflict, "REQ_TOO_EARLY_ERR")
	env.Do(t, http.MethodPost, "/admin/v1/clock", "", map[string]string{"advance": "31s"}, nil)
	require.NoError(t, c.EnableKey(ctx, k.ID))
}

func TestClock_OffsetSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first := emulatortest.Start(t, emulatortest.WithDataDir(dir))
	want := first.Advance(t, 48*time.Hour)
	require.NoError(t, first.Server.Close())

	second := emulatortest.Start(t, emulatortest.WithDataDir(dir))
	require.WithinDuration(t, want, second.Server.Now(), 5*time.Second, "the same now after a restart")
}
