package ibmenv

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadEnv_NamesMissingVariables(t *testing.T) {
	_, err := LoadEnv(envOf(map[string]string{"IBMCLOUD_API_KEY": "k", "BYOK_ACCOUNT_ID": "acct"}))

	require.EqualError(t, err, "load environment: BYOK_SERVICE_API_KEY, BYOK_KP_INSTANCE_ID, BYOK_DATABASE_URL unset: "+
		"export them (`make stack` writes them to .run/env; `emulator --dev` prints values for the local emulator)")
}

func TestLoadEnv_DefaultsToIBMCloud(t *testing.T) {
	e, err := LoadEnv(envOf(map[string]string{"IBMCLOUD_API_KEY": "op-key", "BYOK_SERVICE_API_KEY": "svc-key",
		"BYOK_KP_INSTANCE_ID": "kp-1", "BYOK_ACCOUNT_ID": "acct", "BYOK_DATABASE_URL": "postgres://u:pw@db/x",
		"BYOK_KP_URL": "https://eu-de.kms.cloud.ibm.com/"}))

	require.NoError(t, err)
	require.Equal(t, Env{OperatorAPIKey: "op-key", ServiceAPIKey: "svc-key", ServiceName: DefaultServiceName,
		KPURL: "https://eu-de.kms.cloud.ibm.com", KPInstanceID: "kp-1", IAMURL: DefaultIAMURL, AccountID: "acct",
		DatabaseURL: "postgres://u:pw@db/x", Region: "eu-de"}, e)
}

func TestEnv_StringHidesSecrets(t *testing.T) {
	e := Env{OperatorAPIKey: "op-key", ServiceAPIKey: "svc-key", DatabaseURL: "postgres://u:pw@db/x"}

	for _, s := range []string{e.String(), fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e)} {
		require.NotContains(t, s, "op-key")
		require.NotContains(t, s, "svc-key")
		require.NotContains(t, s, "pw")
	}
	require.Contains(t, e.String(), "postgres://u:xxxxx@db/x")
}

func TestRegionOf_KPEndpoints(t *testing.T) {
	tests := map[string]string{
		"https://us-south.kms.cloud.ibm.com":       "us-south",
		"https://private.eu-de.kms.cloud.ibm.com":  "eu-de",
		"http://127.0.0.1:8444":                    DefaultRegion,
		"https://ab12.api.us-east.hs-crypto.cloud": DefaultRegion,
		"::not a url": DefaultRegion,
	}
	for url, want := range tests {
		require.Equal(t, want, regionOf(url), url)
	}
}

func TestForKPInstance_ChangesOnlyTheInstance(t *testing.T) {
	e := Read(envOf(map[string]string{"IBMCLOUD_API_KEY": "k", "BYOK_SERVICE_API_KEY": "s",
		"BYOK_KP_INSTANCE_ID": "kp-1", "BYOK_KP_URL": "https://eu-de.kms.cloud.ibm.com"}))

	other := e.ForKPInstance("kp-2")

	require.Equal(t, "kp-2", other.KPInstanceID)
	other.KPInstanceID = e.KPInstanceID
	require.Equal(t, e, other, "same endpoint and identities")
	require.Equal(t, e, e.ForKPInstance(""), "empty keeps the default instance")
}

// jwt is an unsigned token with claims, as far as IAMIDOfToken reads one.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

type fakeTokens struct {
	token string
	err   error
	calls int
}

func (f *fakeTokens) GetToken() (string, error) { f.calls++; return f.token, f.err }

func TestIAMIDOfToken_ReadsTheClaimAndNeverQuotesTheToken(t *testing.T) {
	id, err := IAMIDOfToken(jwt(`{"iam_id":"IBMid-270000AB","sub":"x"}`))
	require.NoError(t, err)
	require.Equal(t, "IBMid-270000AB", id)

	for _, bad := range []string{"opaque-secret-token", jwt(`{"sub":"x"}`), "a.%%%secret.c", jwt(`not json secret`)} {
		_, err := IAMIDOfToken(bad)
		require.Error(t, err, bad)
		require.NotContains(t, err.Error(), "secret")
	}
}

func TestIAMIDs_LearnsOncePerIdentity(t *testing.T) {
	ids := NewIAMIDs()
	op := &fakeTokens{token: jwt(`{"iam_id":"IBMid-op"}`)}
	svc := &fakeTokens{token: jwt(`{"iam_id":"iam-ServiceId-svc"}`)}

	for range 3 {
		got, err := ids.Of(op)
		require.NoError(t, err)
		require.Equal(t, "IBMid-op", got)
	}
	got, err := ids.Of(svc)
	require.NoError(t, err)
	require.Equal(t, "iam-ServiceId-svc", got)
	require.Equal(t, 1, op.calls, "learned once")

	down := &fakeTokens{err: errors.New("connection refused")}
	_, err = ids.Of(down)
	require.ErrorContains(t, err, "connection refused")
	down.err, down.token = nil, jwt(`{"iam_id":"IBMid-late"}`)
	got, err = ids.Of(down)
	require.NoError(t, err)
	require.Equal(t, "IBMid-late", got, "a failure is not kept")
}
