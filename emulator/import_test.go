package emulator_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// sealed is what the real client sends for a secure import: the material
// under the transport key, the token's nonce under the material, the IV.
type sealed struct{ key, nonce, iv string }

// secureMaterial creates an import token, retrieves it and encrypts
// material with the client's own helpers, as a user would.
func secureMaterial(t *testing.T, c *kp.Client, material []byte) sealed {
	t.Helper()
	_, err := c.CreateImportToken(ctx, 600, 1)
	require.NoError(t, err, "create import token")
	tok, err := c.GetImportTokenTransportKey(ctx)
	require.NoError(t, err, "retrieve import token")
	return encryptFor(t, tok, material, tok.Nonce)
}

func encryptFor(t *testing.T, tok *kp.ImportTokenKeyResponse, material []byte, nonce string) sealed {
	t.Helper()
	m := string(b64(material))
	key, err := kp.EncryptKey(m, tok.Payload)
	require.NoError(t, err, "encrypt key material")
	encNonce, iv, err := kp.EncryptNonce(m, nonce, "")
	require.NoError(t, err, "encrypt nonce")
	return sealed{key, encNonce, iv}
}

func TestImportToken_RetrievalsAndShape(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	meta, err := c.CreateImportToken(ctx, 900, 2)
	require.NoError(t, err)
	require.Equal(t, 2, meta.MaxAllowedRetrievals)
	require.Equal(t, 2, meta.RemainingRetrievals)
	require.Equal(t, 900*time.Second, meta.ExpirationDate.Sub(*meta.CreationDate))
	for remaining := 1; remaining >= 0; remaining-- {
		tok, err := c.GetImportTokenTransportKey(ctx)
		require.NoError(t, err)
		require.Equal(t, meta.ID, tok.ID)
		der, err := base64.StdEncoding.DecodeString(tok.Payload)
		require.NoError(t, err)
		block, _ := pem.Decode(der)
		require.NotNil(t, block, "payload is base64 of a PEM public key")
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		require.NoError(t, err)
		require.IsType(t, &rsa.PublicKey{}, pub)
		nonce, err := base64.StdEncoding.DecodeString(tok.Nonce)
		require.NoError(t, err)
		require.Len(t, nonce, 12)
	}
	_, err = c.GetImportTokenTransportKey(ctx)
	e := requireKPErr(t, err, http.StatusConflict, "IMPORT_TOKEN_EXPIRED_ERR")
	require.Contains(t, e.Message, "Import Token could not be retrieved")
}

func TestImportToken_RetrievalsExhausted_Refused(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	_, err := c.CreateImportToken(ctx, 0, 0) // the defaults: 600 s, one retrieval
	require.NoError(t, err)
	tok, err := c.GetImportTokenTransportKey(ctx)
	require.NoError(t, err)
	_, err = c.GetImportTokenTransportKey(ctx)
	requireKPErr(t, err, http.StatusConflict, "IMPORT_TOKEN_EXPIRED_ERR")

	s := encryptFor(t, tok, dek(3), tok.Nonce)
	k, err := c.CreateImportedRootKey(ctx, "after-last-retrieval", nil, s.key, s.nonce, s.iv)
	require.NoError(t, err, "a retrieved token imports keys until it expires")
	require.True(t, k.Imported)
}

func TestImportToken_Expired_Refused(t *testing.T) {
	env, clk := startWithClock(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	_, err := c.CreateImportToken(ctx, 300, 5)
	require.NoError(t, err)
	tok, err := c.GetImportTokenTransportKey(ctx)
	require.NoError(t, err)
	s := encryptFor(t, tok, dek(4), tok.Nonce)
	clk.Advance(301 * time.Second)

	_, err = c.GetImportTokenTransportKey(ctx)
	requireKPErr(t, err, http.StatusConflict, "IMPORT_TOKEN_EXPIRED_ERR")
	_, err = c.CreateImportedRootKey(ctx, "too-late", nil, s.key, s.nonce, s.iv)
	requireKPErr(t, err, http.StatusConflict, "IMPORT_TOKEN_EXPIRED_ERR")
}

func TestImportToken_InvalidRequests(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	_, err := c.GetImportTokenTransportKey(ctx)
	requireKPErr(t, err, http.StatusNotFound, "IMPORT_TOKEN_NOT_FOUND_ERR")
	_, err = c.CreateImportToken(ctx, 299, 1)
	requireKPErr(t, err, http.StatusBadRequest, "INVALID_FIELD_ERR")
	_, err = c.CreateImportToken(ctx, 600, 501)
	requireKPErr(t, err, http.StatusBadRequest, "INVALID_FIELD_ERR")
	_, err = env.ServiceClient(t).CreateImportToken(ctx, 600, 1)
	requireKPErr(t, err, http.StatusForbidden, "INSUFFICIENT_ROLE_ERR")
}

func TestSecureImport_VariantsWrapAndUnwrap(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	tests := []struct {
		name   string
		create func(t *testing.T) (*kp.Key, error)
	}{
		{"plain import", func(t *testing.T) (*kp.Key, error) {
			return c.CreateImportedRootKey(ctx, "plain", nil, string(b64(dek(10))), "", "")
		}},
		{"RSA-OAEP SHA-256, nonce under AES-GCM", func(t *testing.T) (*kp.Key, error) {
			s := secureMaterial(t, c, dek(11))
			return c.CreateImportedRootKey(ctx, "secure-sha256", nil, s.key, s.nonce, s.iv)
		}},
		{"RSA-OAEP SHA-1", func(t *testing.T) (*kp.Key, error) {
			_, err := c.CreateImportToken(ctx, 600, 1)
			require.NoError(t, err)
			tok, err := c.GetImportTokenTransportKey(ctx)
			require.NoError(t, err)
			m := string(b64(dek(12)))
			key, err := kp.EncryptKeyWithSHA1(m, tok.Payload)
			require.NoError(t, err)
			nonce, iv, err := kp.EncryptNonce(m, tok.Nonce, "")
			require.NoError(t, err)
			return c.CreateImportedKeyWithSHA1(ctx, "secure-sha1", nil, key, nonce, iv, false, nil)
		}},
		{"nonce under AES-CBC with PKCS #7 padding", func(t *testing.T) (*kp.Key, error) {
			_, err := c.CreateImportToken(ctx, 600, 1)
			require.NoError(t, err)
			tok, err := c.GetImportTokenTransportKey(ctx)
			require.NoError(t, err)
			s := encryptFor(t, tok, dek(13), tok.Nonce)
			nonce, iv, err := kp.EncryptNonceWithCBCPAD(string(b64(dek(13))), tok.Nonce, "")
			require.NoError(t, err)
			return c.CreateImportedRootKey(ctx, "secure-cbc", nil, s.key, nonce, iv)
		}},
	}
	svc := env.ServiceClient(t)
	env.AuthorizeService(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := tc.create(t)
			require.NoError(t, err)
			require.True(t, k.Imported)
			require.False(t, k.Extractable)
			aad := []string{"instance", "node"}
			ct, err := svc.Wrap(ctx, k.ID, b64(dek(99)), &aad)
			require.NoError(t, err)
			pt, err := svc.Unwrap(ctx, k.ID, ct, &aad)
			require.NoError(t, err)
			require.Equal(t, b64(dek(99)), pt)
		})
	}
}

func TestSecureImport_BadProofs_Refused(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	_, err := c.CreateImportToken(ctx, 600, 10)
	require.NoError(t, err)
	tok, err := c.GetImportTokenTransportKey(ctx)
	require.NoError(t, err)
	good := encryptFor(t, tok, dek(20), tok.Nonce)
	otherMaterial := encryptFor(t, tok, dek(21), tok.Nonce)
	wrongNonce := encryptFor(t, tok, dek(20), base64.StdEncoding.EncodeToString([]byte("not-the-nonc")))
	sha1Key, err := kp.EncryptKeyWithSHA1(string(b64(dek(20))), tok.Payload)
	require.NoError(t, err)
	shortKey, err := kp.EncryptKey(string(b64(dek(20)[:20])), tok.Payload)
	require.NoError(t, err)
	tests := []struct {
		name       string
		key, nonce string
		iv         string
		status     int
		code       string
	}{
		{"wrong nonce", good.key, wrongNonce.nonce, wrongNonce.iv, 400, "INCORRECT_NONCE_ERR"},
		{"nonce under other material", good.key, otherMaterial.nonce, otherMaterial.iv, 400, "INCORRECT_NONCE_IV_ERR"},
		{"IV of another nonce", good.key, good.nonce, wrongNonce.iv, 400, "INCORRECT_NONCE_IV_ERR"},
		{"SHA-1 material sent as SHA-256", sha1Key, good.nonce, good.iv, 400, "INVALID_FIELD_ERR"},
		{"material of 20 bytes", shortKey, good.nonce, good.iv, 400, "INVALID_FIELD_ERR"},
		{"not base64", "***", good.nonce, good.iv, 400, "INVALID_FIELD_ERR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateImportedRootKey(ctx, "refused", nil, tc.key, tc.nonce, tc.iv)
			requireKPErr(t, err, tc.status, tc.code)
		})
	}
	_, err = c.CreateImportedRootKey(ctx, "accepted", nil, good.key, good.nonce, good.iv)
	require.NoError(t, err, "the good proof still imports after the refusals")

	_, err = c.CreateImportToken(ctx, 600, 1)
	require.NoError(t, err)
	_, err = c.CreateImportedRootKey(ctx, "stale", nil, good.key, good.nonce, good.iv)
	requireKPErr(t, err, http.StatusBadRequest, "INVALID_FIELD_ERR")
}
