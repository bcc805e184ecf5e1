package keyprotect

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/encryption"
)

var sentinels = []error{ErrKeyDestroyed, ErrKeySuspended, ErrKeyNotFound, ErrNotAuthorized, ErrUnavailable, ErrInvalidCiphertext}

// requireOnly checks that err matches want (nil: no sentinel) and no other
// sentinel.
func requireOnly(t *testing.T, err, want error) {
	t.Helper()
	require.Error(t, err)
	for _, s := range sentinels {
		if s == want {
			require.ErrorIs(t, err, s)
		} else {
			require.NotErrorIs(t, err, s)
		}
	}
}

func TestWrapper_KeyProtectErrorsAreClassified(t *testing.T) {
	cases := []struct {
		name  string
		reply reply
		want  error
		code  string
	}{
		{"410 gone fixture", reply{http.StatusGone, `{"resources":[{"errorMsg":"Gone: The key has been deleted and is no longer available. Please see 'reasons' for more details."}]}`}, ErrKeyDestroyed, ""},
		{"410 KEY_DELETED_ERR", errorReply(http.StatusGone, "Gone: Key could not be used", "KEY_DELETED_ERR"), ErrKeyDestroyed, "KEY_DELETED_ERR"},
		{"409 disabled key", errorReply(http.StatusConflict, "Conflict: Key is not in active state", "KEY_ACTION_INVALID_STATE_ERR"), ErrKeySuspended, "KEY_ACTION_INVALID_STATE_ERR"},
		{"409 other conflict", errorReply(http.StatusConflict, "Conflict", "REQ_TOO_EARLY_ERR"), nil, "REQ_TOO_EARLY_ERR"},
		{"404 not found", errorReply(http.StatusNotFound, "Not Found: Key could not be retrieved", "KEY_NOT_FOUND_ERR"), ErrKeyNotFound, "KEY_NOT_FOUND_ERR"},
		{"401 no reasons", errorReply(http.StatusUnauthorized, "Unauthorized: The user does not have access to the specified resource", ""), ErrNotAuthorized, ""},
		{"403 forbidden", errorReply(http.StatusForbidden, "Forbidden", "RESOURCE_OWNER_ERR"), ErrNotAuthorized, "RESOURCE_OWNER_ERR"},
		{"422 plain text fixture", reply{http.StatusUnprocessableEntity, "Unprocessable Entity: Invalid ciphertext"}, ErrInvalidCiphertext, ""},
		{"422 envelope", errorReply(http.StatusUnprocessableEntity, "Unprocessable Entity: The provided ciphertext is invalid or corrupted", "UNPROCESSABLE_CIPHERTEXT_ERR"), ErrInvalidCiphertext, "UNPROCESSABLE_CIPHERTEXT_ERR"},
		{"429 rate limited", errorReply(http.StatusTooManyRequests, "Too Many Requests", ""), ErrUnavailable, ""},
		{"503 unavailable", errorReply(http.StatusServiceUnavailable, "Service Unavailable", ""), ErrUnavailable, ""},
		{"400 standard key", errorReply(http.StatusBadRequest, "Bad Request", "KEY_ROOT_REQ_ERR"), nil, "KEY_ROOT_REQ_ERR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dek, b64 := testDEK(t)
			w, _ := newTestWrapper(t, map[string]reply{wrapPath: tc.reply, unwrapPath: tc.reply})
			_, wrapErr := w.WrapKey(context.Background(), rootKeyID, dek, testAAD)
			_, _, unwrapErr := w.UnwrapKey(context.Background(), encryption.WrappedKey{RootKeyID: rootKeyID, Ciphertext: []byte("Y3Q=")}, testAAD)
			for _, err := range []error{wrapErr, unwrapErr} {
				requireOnly(t, err, tc.want)
				var apiErr *kp.Error
				require.ErrorAs(t, err, &apiErr, "the client's error stays reachable")
				require.Equal(t, tc.reply.status, apiErr.StatusCode)
				require.Contains(t, err.Error(), rootKeyID)
				require.Contains(t, err.Error(), tc.code)
				require.NotContains(t, err.Error(), b64)
			}
		})
	}
}

func TestWrapper_UnwrapNonBase64CiphertextIsInvalidCiphertext(t *testing.T) {
	w, _ := newTestWrapper(t, map[string]reply{
		unwrapPath: errorReply(http.StatusBadRequest, "Bad Request: ciphertext is not base64", "INVALID_FIELD_ERR"),
	})
	_, _, err := w.UnwrapKey(context.Background(), encryption.WrappedKey{RootKeyID: rootKeyID, Ciphertext: []byte("!!")}, nil)
	requireOnly(t, err, ErrInvalidCiphertext)
}

func TestWrapper_NetworkFailureIsUnavailable(t *testing.T) {
	w, _ := newTestWrapper(t, nil)
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	w.client.(*kp.Client).URL.Host = srv.Listener.Addr().String()
	dek, _ := testDEK(t)
	_, err := w.WrapKey(context.Background(), rootKeyID, dek, testAAD)
	requireOnly(t, err, ErrUnavailable)
	var urlErr *kp.URLError
	require.ErrorAs(t, err, &urlErr)
}

func TestWrapper_CanceledContextIsUnavailable(t *testing.T) {
	w, _ := newTestWrapper(t, map[string]reply{wrapPath: {http.StatusOK, `{"ciphertext":"Y3Q="}`}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dek, _ := testDEK(t)
	_, err := w.WrapKey(ctx, rootKeyID, dek, testAAD)
	requireOnly(t, err, ErrUnavailable)
	require.ErrorIs(t, err, context.Canceled)
}

func TestWrapper_IAMRefusalIsNotAuthorized(t *testing.T) {
	cases := map[string]struct {
		status int
		want   error
	}{
		"bad api key": {http.StatusBadRequest, ErrNotAuthorized},
		"iam down":    {http.StatusServiceUnavailable, ErrUnavailable},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			iam := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, `{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found"}`)
			}))
			t.Cleanup(iam.Close)
			client, err := kp.New(kp.ClientConfig{BaseURL: iam.URL, APIKey: "service-api-key", TokenURL: iam.URL + "/identity/token", InstanceID: "i"}, kp.DefaultTransport())
			require.NoError(t, err)
			dek, _ := testDEK(t)
			_, err = New(client).WrapKey(context.Background(), rootKeyID, dek, testAAD)
			requireOnly(t, err, tc.want)
			require.NotContains(t, err.Error(), "service-api-key")
		})
	}
}

func TestClassify_UnknownErrorKeepsItsText(t *testing.T) {
	err := classify(opWrap, "k", errors.New("json: cannot unmarshal"))
	requireOnly(t, err, nil)
	require.Equal(t, "wrap data key under root key k: json: cannot unmarshal", err.Error())
}
