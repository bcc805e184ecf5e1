package temporalenv_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/internal/temporalenv"
)

// env is an envconfig.EnvLookup over a map; no config file is read unless
// it names one.
type env map[string]string

func (e env) LookupEnv(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e env) Environ() []string {
	var out []string
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

func noFile(t *testing.T, e env) env {
	e["TEMPORAL_CONFIG_FILE"] = filepath.Join(t.TempDir(), "none.toml")
	return e
}

func TestOptions_AddressAndNamespace(t *testing.T) {
	opts, err := temporalenv.Options(noFile(t, env{"TEMPORAL_ADDRESS": "h:7233", "TEMPORAL_NAMESPACE": "byok"}), nil, nil)
	require.NoError(t, err)
	require.Equal(t, "h:7233", opts.HostPort)
	require.Equal(t, "byok", opts.Namespace)
	require.Nil(t, opts.ConnectionOptions.TLS, "plain for a dev server")
	require.Nil(t, opts.Credentials)
}

func TestOptions_MissingAddressSaysWhatToDo(t *testing.T) {
	_, err := temporalenv.Options(noFile(t, env{}), nil, nil)
	require.ErrorContains(t, err, "TEMPORAL_ADDRESS is not set")
}

func TestOptions_APIKeyTurnsTLSOn(t *testing.T) {
	opts, err := temporalenv.Options(noFile(t, env{"TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233", "TEMPORAL_API_KEY": "k"}), nil, nil)
	require.NoError(t, err)
	require.NotNil(t, opts.Credentials)
	require.NotNil(t, opts.ConnectionOptions.TLS)
}

func TestOptions_ClientCertificateAndServerCA(t *testing.T) {
	cert, key := selfSigned(t)
	opts, err := temporalenv.Options(noFile(t, env{
		"TEMPORAL_ADDRESS": "temporal.internal:7233", "TEMPORAL_TLS_CLIENT_CERT_PATH": cert,
		"TEMPORAL_TLS_CLIENT_KEY_PATH": key, "TEMPORAL_TLS_SERVER_CA_CERT_PATH": cert,
		"TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
	}), nil, nil)
	require.NoError(t, err)
	tls := opts.ConnectionOptions.TLS
	require.NotNil(t, tls)
	require.Len(t, tls.Certificates, 1)
	require.NotNil(t, tls.RootCAs)
	require.Equal(t, "temporal.internal", tls.ServerName)

	_, err = temporalenv.Options(noFile(t, env{"TEMPORAL_ADDRESS": "h:1", "TEMPORAL_TLS_CLIENT_CERT_PATH": cert}), nil, nil)
	require.ErrorContains(t, err, "TEMPORAL_TLS", "a certificate without its key is refused")
}

func TestOptions_CodecSealsPayloadsAndFailures(t *testing.T) {
	opts, err := temporalenv.Options(noFile(t, env{"TEMPORAL_ADDRESS": "h:7233"}), nil, reverseCodec{})
	require.NoError(t, err)
	p, err := opts.DataConverter.ToPayload("x")
	require.NoError(t, err)
	require.Equal(t, "test/reversed", string(p.Metadata["encoding"]))
	f := opts.FailureConverter.ErrorToFailure(temporal.NewNonRetryableApplicationError("restore failed: row 42 holds secret", "BackupCorrupt", nil))
	require.Equal(t, "Encoded failure", f.Message, "the message travels in the sealed encoded attributes")
	require.Empty(t, f.StackTrace)
	require.Equal(t, "test/reversed", string(f.EncodedAttributes.Metadata["encoding"]))
	back := opts.FailureConverter.FailureToError(f)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(back, &appErr))
	require.Equal(t, "restore failed: row 42 holds secret", appErr.Message())
}

// reverseCodec marks payloads so the test sees the codec ran.
type reverseCodec struct{}

func (reverseCodec) Encode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		b, _ := p.Marshal()
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("test/reversed")}, Data: b}
	}
	return out, nil
}

func (reverseCodec) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		if string(p.Metadata["encoding"]) != "test/reversed" {
			out[i] = p
			continue
		}
		out[i] = &commonpb.Payload{}
		if err := out[i].Unmarshal(p.Data); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func selfSigned(t *testing.T) (certPath, keyPath string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "temporal.internal"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, DNSNames: []string{"temporal.internal"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(k)
	require.NoError(t, err)
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certPath, keyPath
}
