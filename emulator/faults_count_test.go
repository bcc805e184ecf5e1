package emulator_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// TestFaults_FaultedResponsesCountEveryAPI: injected faults apply to the
// token endpoint, IAM policy management and Key Protect alike, and each
// faulted answer is counted per operation; answers served are not.
func TestFaults_FaultedResponsesCountEveryAPI(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	env.Server.SetFaults(emulator.Faults{Rate503: 1})
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	require.Equal(t, http.StatusServiceUnavailable, env.Do(t, http.MethodPost, "/identity/token", "", "grant_type=x", form).Status)
	require.Equal(t, http.StatusServiceUnavailable,
		env.Do(t, http.MethodGet, "/v1/policies?account_id="+env.Dev.AccountID, tok, nil, nil).Status)
	require.Equal(t, http.StatusServiceUnavailable, env.Do(t, http.MethodGet, "/api/v2/keys", tok, nil, nil).Status)
	env.Server.SetFaults(emulator.Faults{})
	require.Equal(t, http.StatusOK, env.Do(t, http.MethodGet, "/api/v2/keys", tok, nil, nil).Status)
	require.Equal(t, map[string]int64{emulator.OpToken: 1, emulator.OpIAMListPolicies: 1, emulator.OpListKeys: 1},
		env.Server.FaultedResponses())
	require.EqualValues(t, 2, env.Server.Stats()[emulator.OpListKeys], "Stats counts faulted and served requests")
	env.Server.ResetStats()
	require.Empty(t, env.Server.FaultedResponses())
}
