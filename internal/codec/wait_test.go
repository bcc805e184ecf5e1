package codec

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/encryption"
)

// unavailable is how the codec's open fails while Key Protect is down.
var unavailable = fmt.Errorf("unwrap codec key ck-1: %w", encryption.ErrKMSUnavailable)

func TestWaitAvailable_RetriesWhileKeyProtectIsUnavailable(t *testing.T) {
	tries, waits := 0, []time.Duration{}
	c, err := waitAvailable(context.Background(), time.Millisecond, time.Minute,
		func(_ error, d time.Duration) { waits = append(waits, d) },
		func() (*Codec, error) {
			if tries++; tries < 4 {
				return nil, unavailable
			}
			return New(&Keyring{}), nil
		})
	require.NoError(t, err)
	require.NotNil(t, c)
	require.Equal(t, []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}, waits, "backoff")
}

func TestWaitAvailable_OtherErrorsReturnAtOnce(t *testing.T) {
	tries := 0
	_, err := waitAvailable(context.Background(), time.Millisecond, time.Minute, nil, func() (*Codec, error) {
		tries++
		return nil, errors.New("codec keyring /x holds no key")
	})
	require.ErrorContains(t, err, "holds no key")
	require.Equal(t, 1, tries, "a permanent error is not retried")
}

func TestWaitAvailable_GivesUpAfterWithin(t *testing.T) {
	tries := 0
	start := time.Now()
	_, err := waitAvailable(context.Background(), 10*time.Millisecond, 50*time.Millisecond, nil, func() (*Codec, error) {
		tries++
		return nil, unavailable
	})
	require.ErrorIs(t, err, encryption.ErrKMSUnavailable, "the last error, for the operator")
	require.Less(t, time.Since(start), time.Second)
	require.Equal(t, 3, tries, "tries at 0, 10 and 30 ms; the next (70 ms) would start too late")
}

func TestWaitAvailable_StopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := waitAvailable(ctx, time.Hour, 2*time.Hour, nil, func() (*Codec, error) { return nil, unavailable })
	require.ErrorIs(t, err, encryption.ErrKMSUnavailable)
}
