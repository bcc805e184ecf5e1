package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func postForm(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestToken_BothEndpoints(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	for _, path := range []string{"/identity/token", "/oidc/token"} {
		t.Run(path, func(t *testing.T) {
			before := time.Now().Unix()
			status, body := postForm(t, env.URL+path, url.Values{
				"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {env.Dev.ServiceAPIKey}})
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "Bearer", body["token_type"])
			require.EqualValues(t, 3600, body["expires_in"])
			require.InDelta(t, before+3600, body["expiration"], 5)
			require.NotEmpty(t, body["refresh_token"])
			claims := jwtClaims(t, body["access_token"].(string))
			require.Equal(t, env.Dev.ServiceIAMID, claims["iam_id"])
			require.Equal(t, env.Dev.ServiceIAMID, claims["sub"])
			require.Equal(t, env.Dev.AccountID, claims["account"].(map[string]any)["bss"])
			require.InDelta(t, before+3600, claims["exp"], 5)
			require.InDelta(t, before, claims["iat"], 5)
		})
	}
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	require.Contains(t, string(hdr), `"alg":"HS256"`)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(payload, &c))
	return c
}

func TestToken_Errors(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tests := []struct {
		name string
		form url.Values
		code string
	}{
		{"unknown key", url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {"nope"}}, "BXNIM0415E"},
		{"missing key", url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}}, "BXNIM0103E"},
		{"bad grant", url.Values{"grant_type": {"password"}}, "BXNIM0009E"},
		{"bad refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt.x.y"}}, "BXNIM0407E"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postForm(t, env.URL+"/identity/token", tc.form)
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, tc.code, body["errorCode"])
			require.NotEmpty(t, body["errorMessage"])
			require.NotEmpty(t, body["context"].(map[string]any)["requestId"])
		})
	}
	c := env.KPClient(t, "unknown-api-key", env.Dev.KPInstanceID)
	_, err := c.GetKeys(ctx, 0, 0)
	require.ErrorContains(t, err, "BXNIM0415E")
}

func TestToken_RefreshGrant(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	_, body := postForm(t, env.URL+"/identity/token", url.Values{
		"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {env.Dev.OperatorAPIKey}})
	status, again := postForm(t, env.URL+"/identity/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, env.Dev.OperatorIAMID, jwtClaims(t, again["access_token"].(string))["iam_id"])
}

func TestToken_ExpiredIsRefused(t *testing.T) {
	env, clk := startWithClock(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	resp := env.Do(t, http.MethodGet, "/api/v2/keys", tok, nil, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	clk.Advance(time.Hour + time.Second)
	resp = env.Do(t, http.MethodGet, "/api/v2/keys", tok, nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.Status)
	requireReason(t, resp, "")
	resp = env.Do(t, http.MethodGet, "/v1/policies?account_id="+env.Dev.AccountID, tok, nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.Status)
}

func TestToken_CachedByClients(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	for i := 0; i < 5; i++ {
		_, err := c.GetKeys(ctx, 0, 0)
		require.NoError(t, err)
	}
	auth := &core.IamAuthenticator{ApiKey: env.Dev.OperatorAPIKey, URL: env.URL}
	for i := 0; i < 5; i++ {
		req, _ := http.NewRequest(http.MethodGet, env.URL, nil)
		require.NoError(t, auth.Authenticate(req))
	}
	st := env.Server.Stats()
	require.EqualValues(t, 2, st["token"], "one token per client")
	require.EqualValues(t, 5, st["list_keys"])
}

func TestToken_VerifiedAfterKPClientReuse(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c, err := kp.New(kp.ClientConfig{BaseURL: env.URL, Authorization: "Bearer " + env.Token(t, env.Dev.OperatorAPIKey),
		InstanceID: env.Dev.KPInstanceID}, kp.DefaultTransport())
	require.NoError(t, err)
	_, err = c.GetKeys(ctx, 0, 0)
	require.NoError(t, err, "a static Authorization works too")
}
