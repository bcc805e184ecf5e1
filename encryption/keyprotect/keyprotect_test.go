package keyprotect

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/encryption"
)

var testAAD = []string{"instance-1", "node-1"}

func testDEK(t *testing.T) (*encryption.DataKey, string) {
	t.Helper()
	raw := make([]byte, encryption.DataKeySize)
	for i := range raw {
		raw[i] = byte(0xa0 + i)
	}
	dek, err := encryption.NewDataKeyFromBytes(raw)
	require.NoError(t, err)
	return dek, base64.StdEncoding.EncodeToString(raw)
}

func TestWrapper_WrapKey_SendsBase64PlaintextAndAAD(t *testing.T) {
	dek, b64 := testDEK(t)
	w, fake := newTestWrapper(t, map[string]reply{
		wrapPath: {http.StatusOK, `{"ciphertext":"b3BhcXVlLWNpcGhlcnRleHQ=","keyVersion":{"id":"version-1"}}`},
	})
	wk, err := w.WrapKey(context.Background(), rootKeyID, dek, testAAD)
	require.NoError(t, err)
	require.Equal(t, encryption.WrappedKey{
		RootKeyID: rootKeyID, KeyVersion: "version-1", Ciphertext: []byte("b3BhcXVlLWNpcGhlcnRleHQ="),
	}, wk)
	reqs := fake.seen()
	require.Len(t, reqs, 1)
	require.Equal(t, b64, reqs[0].body["plaintext"], "plaintext goes as base64 of the key")
	require.Equal(t, []any{"instance-1", "node-1"}, reqs[0].body["aad"])
	require.Equal(t, "instance-1", reqs[0].header.Get("Bluemix-Instance"))
	require.Equal(t, "Bearer test-token", reqs[0].header.Get("Authorization"))
}

func TestWrapper_WrapKey_NoAADOmitsField(t *testing.T) {
	dek, _ := testDEK(t)
	w, fake := newTestWrapper(t, map[string]reply{
		wrapPath: {http.StatusOK, `{"ciphertext":"Y3Q=","keyVersion":{"id":"version-1"}}`},
	})
	_, err := w.WrapKey(context.Background(), rootKeyID, dek, nil)
	require.NoError(t, err)
	require.NotContains(t, fake.seen()[0].body, "aad")
}

func TestWrapper_WrapKey_VersionMissingReadsMetadata(t *testing.T) {
	dek, _ := testDEK(t)
	w, _ := newTestWrapper(t, map[string]reply{
		wrapPath: {http.StatusOK, `{"ciphertext":"Y3Q="}`},
		metaPath: metadataReply("version-7"),
	})
	wk, err := w.WrapKey(context.Background(), rootKeyID, dek, testAAD)
	require.NoError(t, err)
	require.Equal(t, "version-7", wk.KeyVersion)
}

func TestWrapper_WrapKey_EmptyCiphertextIsAnError(t *testing.T) {
	dek, _ := testDEK(t)
	w, _ := newTestWrapper(t, map[string]reply{wrapPath: {http.StatusOK, `{"keyVersion":{"id":"v"}}`}})
	_, err := w.WrapKey(context.Background(), rootKeyID, dek, testAAD)
	require.ErrorContains(t, err, "no ciphertext")
}

func TestWrapper_WrapKey_DestroyedDataKeyMakesNoCall(t *testing.T) {
	dek, _ := testDEK(t)
	dek.Destroy()
	w, fake := newTestWrapper(t, nil)
	_, err := w.WrapKey(context.Background(), rootKeyID, dek, testAAD)
	require.ErrorIs(t, err, encryption.ErrKeyDestroyed)
	require.Empty(t, fake.seen())
}

func TestWrapper_UnwrapKey_CurrentVersion(t *testing.T) {
	dek, b64 := testDEK(t)
	w, fake := newTestWrapper(t, map[string]reply{
		unwrapPath: {http.StatusOK, `{"plaintext":"` + b64 + `","keyVersion":{"id":"version-1"}}`},
	})
	wk := encryption.WrappedKey{RootKeyID: rootKeyID, KeyVersion: "version-1", Ciphertext: []byte("Y3QtdjE=")}
	got, rewrapped, err := w.UnwrapKey(context.Background(), wk, testAAD)
	require.NoError(t, err)
	require.Nil(t, rewrapped)
	requireSameKey(t, dek, got)
	reqs := fake.seen()
	require.Len(t, reqs, 1, "no metadata read without a rewrap offer")
	require.Equal(t, "Y3QtdjE=", reqs[0].body["ciphertext"], "the ciphertext goes back byte for byte")
	require.Equal(t, []any{"instance-1", "node-1"}, reqs[0].body["aad"])
}

func TestWrapper_UnwrapKey_RotatedKeyReturnsRewrap(t *testing.T) {
	dek, b64 := testDEK(t)
	w, _ := newTestWrapper(t, map[string]reply{
		unwrapPath: {http.StatusOK, `{"plaintext":"` + b64 + `","keyVersion":{"id":"version-1"},
			"ciphertext":"Y3QtdjI=","rewrappedKeyVersion":{"id":"version-2"}}`},
		metaPath: metadataReply("version-2"),
	})
	wk := encryption.WrappedKey{RootKeyID: rootKeyID, KeyVersion: "version-1", Ciphertext: []byte("Y3QtdjE=")}
	got, rewrapped, err := w.UnwrapKey(context.Background(), wk, testAAD)
	require.NoError(t, err)
	requireSameKey(t, dek, got)
	require.Equal(t, &encryption.WrappedKey{RootKeyID: rootKeyID, KeyVersion: "version-2", Ciphertext: []byte("Y3QtdjI=")}, rewrapped)

	newer, changed, err := encryption.Rewrap(context.Background(), w, wk, testAAD)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, *rewrapped, newer)
}

func TestWrapper_UnwrapKey_MetadataFailureDropsRewrapOffer(t *testing.T) {
	dek, b64 := testDEK(t)
	w, _ := newTestWrapper(t, map[string]reply{
		unwrapPath: {http.StatusOK, `{"plaintext":"` + b64 + `","ciphertext":"Y3QtdjI="}`},
		metaPath:   errorReply(http.StatusForbidden, "Forbidden", ""),
	})
	got, rewrapped, err := w.UnwrapKey(context.Background(), encryption.WrappedKey{RootKeyID: rootKeyID}, nil)
	require.NoError(t, err)
	require.Nil(t, rewrapped)
	requireSameKey(t, dek, got)
}

// TestWrapper_UnwrapKey_MetadataUnavailableIsAnError: a rewrap offer whose
// version Key Protect cannot tell right now (503) fails the unwrap as
// unavailable, to be retried, rather than passing for "no newer version"
// (a node's rewrap would report it done under the old version).
func TestWrapper_UnwrapKey_MetadataUnavailableIsAnError(t *testing.T) {
	_, b64 := testDEK(t)
	w, _ := newTestWrapper(t, map[string]reply{
		unwrapPath: {http.StatusOK, `{"plaintext":"` + b64 + `","ciphertext":"Y3QtdjI="}`},
		metaPath:   errorReply(http.StatusServiceUnavailable, "Service Unavailable", "SERVICE_UNAVAILABLE_ERR"),
	})
	got, rewrapped, err := w.UnwrapKey(context.Background(), encryption.WrappedKey{RootKeyID: rootKeyID, KeyVersion: "version-1"}, nil)
	require.ErrorIs(t, err, encryption.ErrKMSUnavailable)
	require.Nil(t, got)
	require.Nil(t, rewrapped)
}

func TestWrapper_UnwrapKey_BadPlaintextIsAnError(t *testing.T) {
	cases := map[string]string{
		"not base64": "%%%not-base64%%%",
		"16 bytes":   base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"empty":      "",
	}
	for name, pt := range cases {
		t.Run(name, func(t *testing.T) {
			w, _ := newTestWrapper(t, map[string]reply{unwrapPath: {http.StatusOK, `{"plaintext":"` + pt + `"}`}})
			dek, _, err := w.UnwrapKey(context.Background(), encryption.WrappedKey{RootKeyID: rootKeyID, Ciphertext: []byte("Y3Q=")}, nil)
			require.Error(t, err)
			require.Nil(t, dek)
			if pt != "" {
				require.NotContains(t, err.Error(), pt, "no plaintext in errors")
			}
		})
	}
}

func requireSameKey(t *testing.T, want, got *encryption.DataKey) {
	t.Helper()
	require.NotNil(t, got)
	a, err := want.CheckValue()
	require.NoError(t, err)
	b, err := got.CheckValue()
	require.NoError(t, err)
	require.Equal(t, a, b)
}
