package codecserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
	"github.com/byokflow/byokflow/internal/codecserver"
)

const uiOrigin = "http://127.0.0.1:8233"

var zlib = converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true})

// server runs the codec server over zlib (a stand-in codec) with IAM
// authorization against an emulator, or with authorization off.
func server(t *testing.T, withAuth bool) (*httptest.Server, *emulatortest.Env) {
	emu := emulatortest.Start(t, emulatortest.WithMemory())
	cfg := codecserver.Config{Codec: zlib, Origins: []string{uiOrigin}}
	if withAuth {
		cfg.Auth = &codecserver.IAM{URL: emu.URL, Accounts: []string{emu.Dev.AccountID}, CacheFor: time.Minute}
	}
	ts := httptest.NewServer(codecserver.Handler(cfg))
	t.Cleanup(ts.Close)
	return ts, emu
}

// encodedBody is a decode request: one zlib-encoded JSON payload.
func encodedBody(t *testing.T) []byte {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload("orders")
	require.NoError(t, err)
	enc, err := zlib.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	require.NoError(t, err)
	return b
}

func post(t *testing.T, url string, body []byte, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decoded(t *testing.T, resp *http.Response) string {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Payloads []struct{ Data []byte } `json:"payloads"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Len(t, out.Payloads, 1)
	return string(out.Payloads[0].Data)
}

func TestHandler_RefusesRequestsWithoutValidAuthorization(t *testing.T) {
	ts, emu := server(t, true)
	body := encodedBody(t)
	for name, header := range map[string]string{
		"no header":             "",
		"not bearer":            "Basic dXNlcjpwYXNz",
		"garbage token":         "Bearer not-a-token",
		"token of another acct": "Bearer " + emu.Token(t, emu.Dev.CodecAPIKey),
	} {
		t.Run(name, func(t *testing.T) {
			resp := post(t, ts.URL+"/default/decode", body, map[string]string{"Authorization": header})
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
			msg, _ := io.ReadAll(resp.Body)
			require.NotContains(t, string(msg), "orders")
		})
	}
	ok := post(t, ts.URL+"/default/decode", body, map[string]string{"Authorization": "Bearer " + emu.Token(t, emu.Dev.OperatorAPIKey)})
	require.Equal(t, `"orders"`, decoded(t, ok))
}

func TestHandler_AuthorizationOffServesWithoutToken(t *testing.T) {
	ts, _ := server(t, false)
	require.Equal(t, `"orders"`, decoded(t, post(t, ts.URL+"/decode", encodedBody(t), map[string]string{"X-Namespace": "default"})))
}

func TestIAM_OneIntrospectionPerToken(t *testing.T) {
	ts, emu := server(t, true)
	h := map[string]string{"Authorization": "Bearer " + emu.Token(t, emu.Dev.OperatorAPIKey)}
	for range 5 {
		decoded(t, post(t, ts.URL+"/default/decode", encodedBody(t), h))
	}
	require.EqualValues(t, 1, emu.Server.Stats()[emulator.OpIntrospect])
}

func preflight(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestHandler_CORSPreflightOnlyForTheUIOrigin(t *testing.T) {
	ts, _ := server(t, true)
	resp := preflight(t, ts.URL+"/decode", uiOrigin)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "no token needed for a preflight")
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")

	for _, other := range []string{"http://evil.example", "http://127.0.0.1:9999", "null"} {
		resp := preflight(t, ts.URL+"/decode", other)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, other)
		require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), other)
	}
	resp = post(t, ts.URL+"/decode", encodedBody(t), map[string]string{"Origin": "http://evil.example"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a page of another origin cannot even try")
}

func TestHandler_UnknownPathsAreNotFound(t *testing.T) {
	ts, _ := server(t, false)
	require.Equal(t, http.StatusNotFound, post(t, ts.URL+"/default/other", encodedBody(t), nil).StatusCode)
	resp, err := http.Get(ts.URL + "/decode")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
