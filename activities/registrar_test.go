package activities

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// recorded is one request the fake Key Protect received.
type recorded struct {
	method, path, body string
	header             http.Header
}

func fakeKP(t *testing.T, status int, body string) (*httptest.Server, *[]recorded) {
	t.Helper()
	var got []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, recorded{r.Method, r.URL.EscapedPath(), string(b), r.Header.Clone()})
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestServiceRegistrar_SendsTheAPICall(t *testing.T) {
	srv, got := fakeKP(t, http.StatusCreated, "")
	auth, err := core.NewBearerTokenAuthenticator("service-token")
	require.NoError(t, err)
	r := NewServiceRegistrar(srv.URL, "kp-1", auth, nil)
	crn := "crn:v1:bluemix:public:hyperp-dbaas-postgresql:us-south:a/acct:orders-db::"

	require.NoError(t, r.CreateRegistration(context.Background(), "key-1", crn, "byokflow instance orders-db"))
	require.NoError(t, r.DeleteRegistration(context.Background(), "key-1", crn))

	require.Len(t, *got, 2)
	create, del := (*got)[0], (*got)[1]
	wantPath := "/api/v2/keys/key-1/registrations/crn%3Av1%3Abluemix%3Apublic%3Ahyperp-dbaas-postgresql%3Aus-south%3Aa%2Facct%3Aorders-db%3A%3A"
	require.Equal(t, recorded{"POST", wantPath, `{"preventKeyDeletion":false,"description":"byokflow instance orders-db"}`,
		nil}, recorded{create.method, create.path, create.body, nil})
	require.Equal(t, "Bearer service-token", create.header.Get("Authorization"))
	require.Equal(t, "kp-1", create.header.Get("Bluemix-Instance"))
	require.Equal(t, "application/json", create.header.Get("Content-Type"))
	require.Equal(t, "application/json", create.header.Get("Accept"))
	require.Equal(t, "DELETE", del.method)
	require.Equal(t, wantPath, del.path)
	require.Empty(t, del.body)
}

func TestServiceRegistrar_ReturnsKPError(t *testing.T) {
	srv, _ := fakeKP(t, http.StatusForbidden, `{"resources":[{"errorMsg":"Forbidden",
		"reasons":[{"code":"UNAUTHORIZED_SERVICE","message":"No IAM authorization policy"}]}]}`)
	auth, err := core.NewBearerTokenAuthenticator("service-token")
	require.NoError(t, err)

	err = NewServiceRegistrar(srv.URL, "kp-1", auth, nil).DeleteRegistration(context.Background(), "key-1", "crn:x")

	var kerr *KPError
	require.ErrorAs(t, err, &kerr)
	require.Equal(t, &KPError{StatusCode: 403, Codes: []string{"UNAUTHORIZED_SERVICE"}, Message: "No IAM authorization policy"}, kerr)
	require.NotContains(t, err.Error(), "service-token")
}

func TestServiceRegistrar_SendsTheCorrelationID(t *testing.T) {
	srv, got := fakeKP(t, http.StatusCreated, "")
	auth, err := core.NewBearerTokenAuthenticator("service-token")
	require.NoError(t, err)
	id := uuid.MustParse("0235c464-34f3-5710-9791-2aecdaaa3141")
	ctx := kp.NewContextWithCorrelationID(context.Background(), &id)

	require.NoError(t, NewServiceRegistrar(srv.URL, "kp-1", auth, nil).CreateRegistration(ctx, "key-1", "crn:x", ""))
	require.NoError(t, NewServiceRegistrar(srv.URL, "kp-1", auth, nil).DeleteRegistration(context.Background(), "key-1", "crn:x"))

	require.Equal(t, id.String(), (*got)[0].header.Get("correlation-id"))
	require.Empty(t, (*got)[1].header.Get("correlation-id"), "outside a workflow: none")
}
