package emulator_test

import (
	"net/http"
	"testing"
	"time"

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
