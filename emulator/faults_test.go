package emulator_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestFaults_RatesAndOutage(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	now := time.Now()
	tests := []struct {
		name   string
		faults emulator.Faults
		status int
		code   string
	}{
		{"all 429", emulator.Faults{Rate429: 1}, 429, "TOO_MANY_REQUESTS_ERR"},
		{"all 503", emulator.Faults{Rate503: 1}, 503, "SERVICE_UNAVAILABLE_ERR"},
		{"outage window", emulator.Faults{OutageFrom: now.Add(-time.Minute), OutageUntil: now.Add(time.Minute)}, 503, "SERVICE_UNAVAILABLE_ERR"},
		{"outage for", emulator.Faults{}.OutageFor(now, time.Minute), 503, "SERVICE_UNAVAILABLE_ERR"},
		{"past outage", emulator.Faults{OutageFrom: now.Add(-2 * time.Minute), OutageUntil: now.Add(-time.Minute)}, 200, ""},
		{"future outage", emulator.Faults{OutageFrom: now.Add(time.Minute), OutageUntil: now.Add(2 * time.Minute)}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.Server.SetFaults(tc.faults)
			defer env.Server.SetFaults(emulator.Faults{})
			resp := env.Do(t, http.MethodGet, "/api/v2/keys", tok, nil, nil)
			require.Equal(t, tc.status, resp.Status)
			if tc.code != "" {
				requireReason(t, resp, tc.code)
				require.Equal(t, "1", resp.Header.Get("Retry-After"))
			}
		})
	}
}

func TestFaults_ShapePerAPI(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	env.Server.SetFaults(emulator.Faults{Rate503: 1})
	resp := env.Do(t, http.MethodPost, "/identity/token", "", "grant_type=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	require.Equal(t, http.StatusServiceUnavailable, resp.Status)
	require.Contains(t, string(resp.Body), `"errorCode"`)
	resp = env.Do(t, http.MethodGet, "/v1/policies?account_id="+env.Dev.AccountID, tok, nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.Status)
	require.Contains(t, string(resp.Body), `"service_unavailable"`)
	require.EqualValues(t, 1, env.Server.Stats()["iam_list_policies"], "faulted requests are counted")
}

func TestFaults_Latency(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithConfig(func(c *emulator.Config) {
		c.Faults = emulator.Faults{Latency: 50 * time.Millisecond}
	}))
	start := time.Now()
	resp := env.Do(t, http.MethodGet, "/healthz", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	require.Equal(t, 50*time.Millisecond, env.Server.Faults().Latency)
}

func TestFaults_PartialRate(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.Server.SetFaults(emulator.Faults{Rate429: 0.5})
	failed := 0
	for i := 0; i < 200; i++ {
		if env.Do(t, http.MethodGet, "/healthz", "", nil, nil).Status == http.StatusTooManyRequests {
			failed++
		}
	}
	require.InDelta(t, 100, failed, 40)
}

func TestStats_CountPerOperation(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AuthorizeService(t)
	env.Server.ResetStats()
	c := env.OperatorClient(t)
	k := rootKey(t, c, "counted")
	svc := env.ServiceClient(t)
	for i := 0; i < 3; i++ {
		ct, err := svc.Wrap(ctx, k.ID, b64(dek(1)), nil)
		require.NoError(t, err)
		_, err = svc.Unwrap(ctx, k.ID, ct, nil)
		require.NoError(t, err)
	}
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	_, err := c.GetKey(ctx, k.ID)
	require.NoError(t, err)
	_, err = c.ListRegistrations(ctx, "", "")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"token": 2, "create_key": 1, "wrap": 3, "unwrap": 3, "rotate": 1,
		"get_key": 1, "list_registrations": 1}, env.Server.Stats())
}

func TestUnimplemented_Answers501(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	for _, p := range []string{"/api/v2/keys/x/actions/frobnicate", "/api/v2/kmip_adapters", "/api/v2"} {
		t.Run(p, func(t *testing.T) {
			resp := env.Do(t, http.MethodGet, p, tok, nil, nil)
			require.Equal(t, http.StatusNotImplemented, resp.Status)
			requireReason(t, resp, "NOT_IMPLEMENTED_ERR")
		})
	}
	resp := env.Do(t, http.MethodGet, "/nowhere", "", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.Status)
}

func TestDropResponses_RetriedRotate(t *testing.T) {
	tests := []struct {
		name     string
		timing   emulator.Timing
		retry    int // the status the kp client's retry gets
		versions int
	}{
		{"rotation interval on", emulator.Timing{RotationInterval: time.Hour}, http.StatusConflict, 2},
		{"guards off", emulator.Timing{}, http.StatusNoContent, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithTiming(tc.timing))
			c := env.OperatorClient(t)
			k := rootKey(t, c, "rotated once")
			require.NoError(t, env.Server.DropResponses(emulator.OpRotate, 1))
			cctx, id := correlated()
			err := c.Rotate(cctx, k.ID, "")
			if tc.retry == http.StatusConflict {
				requireKPErr(t, err, http.StatusConflict, "KEY_ROTATION_NOT_PERMITTED")
			} else {
				require.NoError(t, err, "the retry rotates again")
			}
			vs, err := c.ListKeyVersions(ctx, k.ID, nil)
			require.NoError(t, err)
			require.Len(t, vs.KeyVersion, tc.versions, "the dropped rotate happened")
			requireAttempts(t, env, id, emulator.OpRotate, http.StatusNoContent, tc.retry)
		})
	}
}

// requireAttempts asserts that the kp client sent op twice with the same
// correlation ID, the first answer lost and the retry answered retry.
func requireAttempts(t *testing.T, env *emulatortest.Env, id, op string, first, retry int) {
	t.Helper()
	recs := env.Server.Activity(emulator.ActivityFilter{CorrelationID: id})
	require.Len(t, recs, 2, "one request and one retry with the same Correlation-Id: %+v", recs)
	require.Equal(t, []string{op, op}, []string{recs[0].Action, recs[1].Action})
	require.Equal(t, []int{first, retry}, []int{recs[0].Status, recs[1].Status})
	require.Equal(t, map[string]int64{op: 1}, env.Server.DroppedResponses())
	require.EqualValues(t, 2, env.Server.Stats()[op])
}

func TestDropResponses_RetriedDeleteKey(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "deleted once")
	require.NoError(t, env.Server.DropResponses(emulator.OpDeleteKey, 1))
	cctx, id := correlated()
	_, err := c.DeleteKey(cctx, k.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusGone, "KEY_DELETED_ERR")
	got, err := c.GetKey(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, int(kp.Destroyed), got.State, "the dropped delete happened")
	requireAttempts(t, env, id, emulator.OpDeleteKey, http.StatusNoContent, http.StatusGone)
}

func TestDropResponses_RetriedCreateRegistration(t *testing.T) {
	env := emulatortest.Start(t)
	env.AuthorizeService(t)
	k := rootKey(t, env.OperatorClient(t), "registered once")
	require.NoError(t, env.Server.DropResponses(emulator.OpCreateRegistration, 1))
	tok := env.Token(t, env.Dev.ServiceAPIKey)
	id := uuid.NewString()
	send := func() (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, env.URL+emulatortest.RegistrationPath(k.ID, crnA),
			strings.NewReader(`{"preventKeyDeletion":false}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Bluemix-Instance", env.Dev.KPInstanceID)
		req.Header.Set("Correlation-Id", id)
		return http.DefaultClient.Do(req)
	}
	_, err := send()
	require.Error(t, err, "no answer: the connection closes")
	require.Contains(t, err.Error(), "EOF")
	resp, err := send() // the caller's retry
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	regs, err := env.OperatorClient(t).ListRegistrations(ctx, k.ID, "")
	require.NoError(t, err)
	require.Len(t, regs.Registrations, 1, "the dropped create happened")
	requireAttempts(t, env, id, emulator.OpCreateRegistration, http.StatusCreated, http.StatusConflict)
	require.Equal(t, "REGISTRATION_EXISTS_ERR", env.Server.Activity(emulator.ActivityFilter{CorrelationID: id})[1].Reason)
}

func TestDropResponses_RefusesUnknownOperation(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	require.Error(t, env.Server.DropResponses("rotat", 1))
	require.Error(t, env.Server.DropResponses(emulator.OpRotate, -1))
	require.NoError(t, env.Server.DropResponses(emulator.OpRotate, 2))
	require.NoError(t, env.Server.DropResponses(emulator.OpRotate, 0), "cancel")
	c := env.OperatorClient(t)
	require.NoError(t, c.Rotate(ctx, rootKey(t, c, "not dropped").ID, ""))
	require.Empty(t, env.Server.DroppedResponses())
}
