package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
)

// fuzzTarget is a memory-only emulator with a key, an authorization
// policy and tokens, driven through its handler without a network.
type fuzzTarget struct {
	h      http.Handler
	keyID  string
	tokens []string // operator, service, none, garbage
}

func newFuzzTarget(t testing.TB) *fuzzTarget {
	s, err := emulator.New(emulator.Config{})
	require.NoError(t, err)
	dev, err := s.SetupDev()
	require.NoError(t, err)
	ft := &fuzzTarget{h: s.Handler()}
	op, svc := ft.token(t, dev.OperatorAPIKey), ft.token(t, dev.ServiceAPIKey)
	ft.tokens = []string{"Bearer " + op, "Bearer " + svc, "", "Bearer x.y.z"}
	body := `{"metadata":{"collectionTotal":1},"resources":[{"name":"fuzz-root","extractable":false}]}`
	rec := ft.serve(http.MethodPost, "/api/v2/keys", "", body, ft.tokens[0], dev.KPInstanceID)
	require.Equal(t, http.StatusCreated, rec.Code)
	var keys struct{ Resources []struct{ ID string } }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &keys))
	ft.keyID = keys.Resources[0].ID
	policy := `{"type":"authorization","subjects":[{"attributes":[{"name":"accountId","value":"` + dev.AccountID +
		`"},{"name":"serviceName","value":"` + dev.ServiceName + `"}]}],"roles":[{"role_id":"crn:v1:bluemix:public:iam::::serviceRole:Reader"}],` +
		`"resources":[{"attributes":[{"name":"accountId","value":"` + dev.AccountID + `"},{"name":"serviceName","value":"kms"}]}]}`
	rec = ft.serve(http.MethodPost, "/v1/policies", "", policy, ft.tokens[0], "")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	return ft
}

func (ft *fuzzTarget) token(t testing.TB, apiKey string) string {
	form := url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {apiKey}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "/identity/token", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	ft.h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tok))
	return tok.AccessToken
}

func (ft *fuzzTarget) serve(method, path, query, body, auth, instance string) *httptest.ResponseRecorder {
	req := &http.Request{
		Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(body)), Host: "emulator", RequestURI: path,
	}
	if rp, err := url.PathUnescape(path); err == nil {
		req.URL.Path, req.URL.RawPath = rp, path
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Bluemix-Instance", instance)
	req.Header.Set("Prefer", "return=representation")
	rec := httptest.NewRecorder()
	ft.h.ServeHTTP(rec, req)
	return rec
}

var fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "HEAD", "BREW"}

func FuzzHandler(f *testing.F) {
	ft := newFuzzTarget(f)
	seeds := []struct {
		method      uint8
		path, query string
		body        string
		who         uint8
	}{
		{1, "/api/v2/keys/{key}/actions/wrap", "", `{"plaintext":"AAAA","aad":["a"]}`, 1},
		{1, "/api/v2/keys/{key}/actions/unwrap", "", `{"ciphertext":"eyJjaXBoZXJ0ZXh0IjoiIn0="}`, 1},
		{1, "/api/v2/keys/{key}/actions/rewrap", "", `null`, 0},
		{1, "/api/v2/keys/{key}/actions/rotate", "", `{"payload":"!!"}`, 0},
		{1, "/api/v2/keys", "", `{"metadata":{"collectionTotal":1},"resources":[{"name":"n2","payload":"AAAA"}]}`, 0},
		{0, "/api/v2/keys", "state=1,5&limit=3&search=not:exact:x,&sort=-id&filter=creationDate=gt:\"2020-01-01T00:00:00Z\"", "", 0},
		{2, "/api/v2/keys/{key}/policies", "policy=rotation", `{"metadata":{"collectionTotal":1},"resources":[{"rotation":{"interval_month":3}}]}`, 0},
		{2, "/api/v2/instance/policies", "", `{"metadata":{"collectionTotal":1},"resources":[{"policy_type":"allowedIP","policy_data":{"enabled":true,"attributes":{"allowed_ip":["x"]}}}]}`, 0},
		{1, "/api/v2/keys/{key}/registrations/crn%3Av1%3Ax%2Fy", "", `{"resources":[{"preventKeyDeletion":true}],"metadata":{"collectionTotal":1}}`, 1},
		{4, "/api/v2/keys/{key}", "force=true", "", 0},
		{1, "/api/v2/keys/{key}/restore", "", "{}", 0},
		{4, "/api/v2/keys/{key}/purge", "", "", 0},
		{1, "/v1/policies", "", `{"type":"access","subjects":[{"attributes":[{"name":"iam_id","value":"x"}]}],"roles":[{"role_id":"crn:v1:a:serviceRole:Reader"}],"resources":[]}`, 0},
		{0, "/v1/policies", "account_id=x&limit=0", "", 0},
		{1, "/identity/token", "", "grant_type=refresh_token&refresh_token=rt.e30.x", 2},
		{1, "//api//v2//key_rings/r1", "", "", 0},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, []byte(s.body), s.who, uint8(0))
	}
	f.Fuzz(func(t *testing.T, method uint8, path, query string, body []byte, who, inst uint8) {
		path = strings.ReplaceAll(path, "{key}", ft.keyID)
		instance := []string{emulator.DevKPInstanceID, "", "unknown"}[int(inst)%3]
		rec := ft.serve(fuzzMethods[int(method)%len(fuzzMethods)], path, query, string(body), ft.tokens[int(who)%len(ft.tokens)], instance)
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
			t.Fatalf("status %d for %s %q: %s", rec.Code, path, query, rec.Body.Bytes())
		}
		if b := rec.Body.Bytes(); len(b) > 0 {
			if !json.Valid(b) || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("non-JSON answer %d for %s: %q", rec.Code, path, b)
			}
		}
	})
}

func TestHandler_OversizedBody(t *testing.T) {
	ft := newFuzzTarget(t)
	big := `{"plaintext":"` + strings.Repeat("A", 2<<20) + `"}`
	rec := ft.serve(http.MethodPost, "/api/v2/keys/"+ft.keyID+"/actions/wrap", "", big, ft.tokens[0], emulator.DevKPInstanceID)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Contains(t, rec.Body.String(), "BODY_TOO_LARGE_ERR")
	rec = ft.serve(http.MethodPost, "/v1/policies", "", strings.Repeat(" ", 2<<20), ft.tokens[0], "")
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	rec = ft.serve(http.MethodPost, "/identity/token", "", "apikey="+strings.Repeat("a", 2<<20), "", "")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.True(t, bytes.Contains(rec.Body.Bytes(), []byte("errorCode")))
}
