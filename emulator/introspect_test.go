package emulator_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestIntrospect_ActiveTokenNamesItsIdentity(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	status, body := postForm(t, env.URL+"/identity/introspect", url.Values{"token": {tok}})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, true, body["active"])
	require.Equal(t, env.Dev.OperatorIAMID, body["iam_id"])
	require.Equal(t, env.Dev.AccountID, body["account"].(map[string]any)["bss"])
}

func TestIntrospect_BadTokensAreInactive(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.CodecAPIKey)
	for name, bad := range map[string]string{
		"garbage": "not-a-token",
		"forged":  tok[:len(tok)-4] + "AAAA",
	} {
		t.Run(name, func(t *testing.T) {
			status, body := postForm(t, env.URL+"/identity/introspect", url.Values{"token": {bad}})
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, map[string]any{"active": false}, body)
		})
	}
	status, _ := postForm(t, env.URL+"/identity/introspect", url.Values{})
	require.Equal(t, http.StatusBadRequest, status, "no token field")
}
