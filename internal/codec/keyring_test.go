package codec

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
)

func TestKeyring_RotationKeepsOldHistoriesDecoding(t *testing.T) {
	kms := newFakeKMS(t)
	before, path := newRing(t, kms)
	old, err := New(before).Encode(jsonPayloads(t, "sealed before the rotation"))
	require.NoError(t, err)

	e, err := Rotate(context.Background(), path, kms, "platform-root")
	require.NoError(t, err)
	after, err := Open(context.Background(), path, kms)
	require.NoError(t, err)
	id, _ := after.Current()
	require.Equal(t, e.ID, id, "the newest key seals")
	fresh, err := New(after).Encode(jsonPayloads(t, "sealed after"))
	require.NoError(t, err)
	require.NotEqual(t, old[0].Metadata[MetadataKeyID], fresh[0].Metadata[MetadataKeyID])

	dec, err := New(after).Decode(old)
	require.NoError(t, err, "a process started after the rotation reads old histories")
	require.Equal(t, `"sealed before the rotation"`, string(dec[0].Data))
	dec, err = New(before).Decode(fresh)
	require.NoError(t, err, "a process started before the rotation picks the new key up")
	require.Equal(t, `"sealed after"`, string(dec[0].Data))
}

func TestKeyring_CurrentMovesAfterRefresh(t *testing.T) {
	kms := newFakeKMS(t)
	ring, path := newRing(t, kms)
	first, _ := ring.Current()
	e, err := Rotate(context.Background(), path, kms, "platform-root")
	require.NoError(t, err)
	id, _ := ring.Current()
	require.Equal(t, first, id, "within the refresh interval the current key stays")
	ring.refresh = 0
	id, _ = ring.Current()
	require.Equal(t, e.ID, id)
}

func TestKeyring_UnknownKeyReloadsAtMostOncePerGap(t *testing.T) {
	kms := newFakeKMS(t)
	ring, _ := newRing(t, kms)
	bogus := &commonpb.Payload{Metadata: map[string][]byte{MetadataEncoding: []byte(EncodingEncrypted), MetadataKeyID: []byte("ck-bogus")}}
	ring.lastMiss = ring.checked // a miss just happened
	for range 5 {
		_, err := New(ring).Decode([]*commonpb.Payload{bogus})
		require.Error(t, err)
	}
	require.Equal(t, 1, kms.unwraps, "bogus key ids do not make the codec call Key Protect")
}

func TestKeyring_RefusesWhatItCannotTrust(t *testing.T) {
	kms := newFakeKMS(t)
	_, path := newRing(t, kms)
	dir := t.TempDir()

	_, err := Open(context.Background(), filepath.Join(dir, "missing.json"), kms)
	require.ErrorContains(t, err, "worker codec-key rotate")

	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte(`{"keys":[]}`), 0o644))
	_, err = Open(context.Background(), empty, kms)
	require.ErrorContains(t, err, "holds no key")

	var f File
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &f))
	f.Keys[0].CheckValue = "0000000000000000"
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, writeFile(bad, f))
	_, err = Open(context.Background(), bad, kms)
	require.ErrorContains(t, err, "check value")

	_, err = Open(context.Background(), path, newFakeKMS(t))
	require.ErrorContains(t, err, "unwrap codec key", "another KMS key cannot unwrap")
}

func TestKeyring_FileHoldsNoKeyInClear(t *testing.T) {
	kms := newFakeKMS(t)
	ring, path := newRing(t, kms)
	_, key := ring.Current()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, key.WithBytes(func(k []byte) error {
		requireNoSecret(t, b, k)
		return nil
	}))
}
