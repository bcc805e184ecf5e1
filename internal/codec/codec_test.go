package codec

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/byokflow/byokflow/encryption"
)

// fakeKMS wraps data keys under one in-memory master key, binding root key
// id and aad, like Key Protect does.
type fakeKMS struct {
	master  *encryption.DataKey
	unwraps int
}

func newFakeKMS(t *testing.T) *fakeKMS {
	k, err := encryption.NewDataKey()
	require.NoError(t, err)
	return &fakeKMS{master: k}
}

func kmsContext(rootKeyID string, aad []string) string {
	return rootKeyID + "\x00" + strings.Join(aad, "\x00")
}

func (f *fakeKMS) WrapKey(_ context.Context, rootKeyID string, dek *encryption.DataKey, aad []string) (encryption.WrappedKey, error) {
	var sealed []byte
	err := dek.WithBytes(func(b []byte) (err error) {
		sealed, err = encryption.Seal(f.master, b, kmsContext(rootKeyID, aad))
		return err
	})
	return encryption.WrappedKey{RootKeyID: rootKeyID, KeyVersion: rootKeyID, Ciphertext: sealed}, err
}

func (f *fakeKMS) UnwrapKey(_ context.Context, wk encryption.WrappedKey, aad []string) (*encryption.DataKey, *encryption.WrappedKey, error) {
	f.unwraps++
	b, err := encryption.Open(f.master, wk.Ciphertext, kmsContext(wk.RootKeyID, aad))
	if err != nil {
		return nil, nil, encryption.ErrInvalidCiphertext
	}
	k, err := encryption.NewDataKeyFromBytes(b)
	return k, nil, err
}

// newRing makes a keyring file with one key and opens it.
func newRing(t *testing.T, kms *fakeKMS) (*Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "codec-keyring.json")
	_, err := Rotate(context.Background(), path, kms, "platform-root")
	require.NoError(t, err)
	ring, err := Open(context.Background(), path, kms)
	require.NoError(t, err)
	return ring, path
}

func jsonPayloads(t *testing.T, values ...any) []*commonpb.Payload {
	t.Helper()
	ps, err := converter.GetDefaultDataConverter().ToPayloads(values...)
	require.NoError(t, err)
	return ps.Payloads
}

func TestCodec_SealsEveryPayloadAndRoundTrips(t *testing.T) {
	ring, _ := newRing(t, newFakeKMS(t))
	c := New(ring)
	in := jsonPayloads(t, map[string]string{"InstanceID": "orders-secret-name"}, "wrapped-dek-bytes", nil, []byte{1, 2, 3})
	enc, err := c.Encode(in)
	require.NoError(t, err)
	require.Len(t, enc, len(in))
	for _, p := range enc {
		require.Equal(t, EncodingEncrypted, string(p.Metadata[MetadataEncoding]))
		require.Equal(t, ring.IDs()[0], string(p.Metadata[MetadataKeyID]))
		require.Len(t, p.Metadata, 3, "no metadata of the original payload leaks")
		require.False(t, bytes.Contains(p.Data, []byte("orders-secret-name")))
		require.False(t, bytes.Contains(p.Data, []byte("json/plain")))
	}
	dec, err := c.Decode(enc)
	require.NoError(t, err)
	for i := range in {
		require.Equal(t, in[i].Data, dec[i].Data)
		require.Equal(t, in[i].Metadata, dec[i].Metadata)
	}
}

func TestCodec_PlainPayloadsPassThrough(t *testing.T) {
	ring, _ := newRing(t, newFakeKMS(t))
	in := jsonPayloads(t, "written before the codec")
	dec, err := New(ring).Decode(in)
	require.NoError(t, err)
	require.Same(t, in[0], dec[0])
}

func TestCodec_TamperedOrRelabelledPayloadFails(t *testing.T) {
	kms := newFakeKMS(t)
	ring, path := newRing(t, kms)
	c := New(ring)
	enc, err := c.Encode(jsonPayloads(t, "x"))
	require.NoError(t, err)

	flipped := cloneP(enc[0])
	flipped.Data[len(flipped.Data)-1] ^= 1
	_, err = c.Decode([]*commonpb.Payload{flipped})
	require.ErrorContains(t, err, "altered")

	_, err = Rotate(context.Background(), path, kms, "platform-root")
	require.NoError(t, err)
	ring.refresh = 0
	second, _ := ring.Current()
	relabelled := cloneP(enc[0])
	relabelled.Metadata[MetadataKeyID] = []byte(second)
	_, err = c.Decode([]*commonpb.Payload{relabelled})
	require.Error(t, err, "the key id is bound to the ciphertext")

	unknown := cloneP(enc[0])
	unknown.Metadata[MetadataKeyID] = []byte("ck-unknown")
	_, err = c.Decode([]*commonpb.Payload{unknown})
	require.ErrorContains(t, err, `codec key "ck-unknown" is not in keyring`)
}

func cloneP(p *commonpb.Payload) *commonpb.Payload {
	md := map[string][]byte{}
	for k, v := range p.Metadata {
		md[k] = append([]byte(nil), v...)
	}
	return &commonpb.Payload{Metadata: md, Data: append([]byte(nil), p.Data...)}
}

func TestCodec_WithTheSDKDataConverter(t *testing.T) {
	ring, _ := newRing(t, newFakeKMS(t))
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(ring))
	type input struct{ InstanceID string }
	p, err := dc.ToPayload(input{"orders"})
	require.NoError(t, err)
	require.Equal(t, EncodingEncrypted, string(p.Metadata[MetadataEncoding]))
	var out input
	require.NoError(t, dc.FromPayload(p, &out))
	require.Equal(t, "orders", out.InstanceID)
}
