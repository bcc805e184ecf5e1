package emulatortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Token fetches an IAM access token for apiKey from the token endpoint.
func (e *Env) Token(t testing.TB, apiKey string) string {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {apiKey}}
	resp, err := http.PostForm(e.URL+"/identity/token", form)
	require.NoError(t, err, "request token")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "token status")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok), "decode token")
	return tok.AccessToken
}

// Response is a raw HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "decode %s", r.Body)
}

// Do sends a raw Key Protect or IAM request: path is relative to the
// emulator URL (e.g. /api/v2/keys), token may be empty, body may be nil,
// a []byte or anything JSON-encodable.
func (e *Env) Do(t testing.TB, method, path, token string, body any, header map[string]string) Response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, bodyReader(t, body))
	require.NoError(t, err, "build request")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if strings.HasPrefix(path, "/api/v2/") {
		req.Header.Set("Bluemix-Instance", e.Dev.KPInstanceID)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "send request")
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "read response")
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func bodyReader(t testing.TB, body any) io.Reader {
	switch b := body.(type) {
	case nil:
		return nil
	case []byte:
		return bytes.NewReader(b)
	case string:
		return strings.NewReader(b)
	}
	b, err := json.Marshal(body)
	require.NoError(t, err, "encode body")
	return bytes.NewReader(b)
}

// RegistrationPath is the path of a registration of keyID for a resource.
func RegistrationPath(keyID, crn string) string {
	return fmt.Sprintf("/api/v2/keys/%s/registrations/%s", keyID, url.PathEscape(crn))
}

// Register creates a registration of crn on keyID with the service
// identity (as the real DBaaS would) and requires 201. The step-2
// authorization policy must exist.
func (e *Env) Register(t testing.TB, keyID, crn string, preventKeyDeletion bool) {
	t.Helper()
	resp := e.Do(t, http.MethodPost, RegistrationPath(keyID, crn), e.Token(t, e.Dev.ServiceAPIKey),
		map[string]any{"preventKeyDeletion": preventKeyDeletion, "description": "registered by emulatortest"}, nil)
	require.Equal(t, http.StatusCreated, resp.Status, "create registration: %s", resp.Body)
}
