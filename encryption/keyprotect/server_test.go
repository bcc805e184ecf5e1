package keyprotect

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/keyprotect-go-client/iam"
	"github.com/stretchr/testify/require"
)

// TestMain turns the clients' retries off: 5xx and 429 answers would
// otherwise cost seconds of back-off per test.
func TestMain(m *testing.M) {
	kp.RetryMax, iam.RetryMax = 0, 0
	kp.RetryWaitMax, iam.RetryWaitMax = 10*time.Millisecond, 10*time.Millisecond
	os.Exit(m.Run())
}

// reply is a canned Key Protect answer, from the API spec's examples.
type reply struct {
	status int
	body   string
}

// request is what the fake server saw.
type request struct {
	method, path string
	header       http.Header
	body         map[string]any
}

// fakeKeyProtect replays canned answers keyed by "METHOD path" and records
// every request.
type fakeKeyProtect struct {
	mu       sync.Mutex
	routes   map[string]reply
	requests []request
}

func (f *fakeKeyProtect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.requests = append(f.requests, request{r.Method, r.URL.Path, r.Header.Clone(), body})
	rep, ok := f.routes[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok {
		rep = reply{http.StatusNotImplemented, `{"resources":[{"errorMsg":"Not Implemented"}]}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeKeyProtect) seen() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// newTestWrapper starts a fake Key Protect and returns a Wrapper whose real
// kp client talks to it.
func newTestWrapper(t *testing.T, routes map[string]reply) (*Wrapper, *fakeKeyProtect) {
	t.Helper()
	fake := &fakeKeyProtect{routes: routes}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client, err := kp.New(kp.ClientConfig{
		BaseURL:       srv.URL,
		Authorization: "Bearer test-token",
		InstanceID:    "instance-1",
	}, kp.DefaultTransport())
	require.NoError(t, err)
	return New(client), fake
}

const (
	rootKeyID  = "3df42bc2-a1b2-4c5d-8e9f-0a1b2c3d4e5f"
	wrapPath   = "POST /api/v2/keys/" + rootKeyID + "/actions/wrap"
	unwrapPath = "POST /api/v2/keys/" + rootKeyID + "/actions/unwrap"
	metaPath   = "GET /api/v2/keys/" + rootKeyID + "/metadata"
)

// metadataReply is the key envelope GetKeyMetadata reads, with the key's
// newest version.
func metadataReply(version string) reply {
	return reply{http.StatusOK, `{"metadata":{"collectionType":"application/vnd.ibm.kms.key+json","collectionTotal":1},
 "resources":[{"type":"application/vnd.ibm.kms.key+json","id":"` + rootKeyID + `","name":"root","state":1,
  "extractable":false,"keyVersion":{"id":"` + version + `","creationDate":"2026-01-02T03:04:05Z"}}]}`}
}

// errorReply is Key Protect's error envelope (spec section 4.1).
func errorReply(status int, msg, code string) reply {
	reasons := ""
	if code != "" {
		reasons = fmt.Sprintf(`,"reasons":[{"code":%q,"message":"m","status":%d,"moreInfo":"https://cloud.ibm.com/apidocs/key-protect"}]`, code, status)
	}
	return reply{status, fmt.Sprintf(`{"metadata":{"collectionType":"application/vnd.ibm.kms.error+json","collectionTotal":1},
 "resources":[{"errorMsg":%q%s}]}`, msg, reasons)}
}
