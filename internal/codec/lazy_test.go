package codec

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLazy_RefusesUntilTheKeyringOpensThenSeals(t *testing.T) {
	ring := &Keyring{keys: nil}
	tries := 0
	l := NewLazy(func(context.Context) (*Codec, error) {
		if tries++; tries == 1 {
			return nil, errors.New("key protect unreachable")
		}
		return New(ring), nil
	})
	_, err := l.Encode(nil)
	require.ErrorIs(t, err, ErrNotReady, "no wait for Key Protect in the caller")
	require.False(t, l.Wait(context.Background(), 10*time.Millisecond))
	go l.Open(context.Background(), slog.New(slog.DiscardHandler))
	require.True(t, l.Wait(context.Background(), 5*time.Second), "opened on the retry")
	require.Equal(t, 2, tries)
	_, err = l.Decode(nil)
	require.NoError(t, err)
}
