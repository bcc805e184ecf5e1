package encryption

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeWrapper returns fixed results and remembers the key it handed out.
type fakeWrapper struct {
	rewrapped *WrappedKey
	err       error
	dek       *DataKey
}

func (f *fakeWrapper) WrapKey(context.Context, string, *DataKey, []string) (WrappedKey, error) {
	return WrappedKey{}, errors.New("not used")
}

func (f *fakeWrapper) UnwrapKey(context.Context, WrappedKey, []string) (*DataKey, *WrappedKey, error) {
	if f.err != nil {
		return nil, nil, f.err
	}
	f.dek, _ = NewDataKey()
	return f.dek, f.rewrapped, nil
}

var _ KeyWrapper = (*fakeWrapper)(nil)

func TestRewrap_ReturnsRewrappedKey(t *testing.T) {
	old := WrappedKey{RootKeyID: "r", KeyVersion: "v1", Ciphertext: []byte("c1")}
	newer := WrappedKey{RootKeyID: "r", KeyVersion: "v2", Ciphertext: []byte("c2")}
	f := &fakeWrapper{rewrapped: &newer}
	got, changed, err := Rewrap(context.Background(), f, old, []string{"a"})
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, newer, got)
	require.True(t, f.dek.Destroyed(), "the unwrapped key must be destroyed")
}

func TestRewrap_CurrentKeyIsUnchanged(t *testing.T) {
	old := WrappedKey{RootKeyID: "r", KeyVersion: "v1", Ciphertext: []byte("c1")}
	f := &fakeWrapper{}
	got, changed, err := Rewrap(context.Background(), f, old, nil)
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, old, got)
	require.True(t, f.dek.Destroyed())
}

func TestRewrap_UnwrapErrorIsReturned(t *testing.T) {
	f := &fakeWrapper{err: ErrRootKeySuspended}
	_, changed, err := Rewrap(context.Background(), f, WrappedKey{}, nil)
	require.ErrorIs(t, err, ErrRootKeySuspended)
	require.False(t, changed)
}
