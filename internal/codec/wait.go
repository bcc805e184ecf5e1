package codec

import (
	"context"
	"errors"
	"time"

	"github.com/byokflow/byokflow/encryption"
)

// FromEnvWaiting is FromEnv for a program that can do nothing without the
// codec (the starter): while Key Protect or IAM is unavailable
// (encryption.ErrKMSUnavailable, after the Key Protect client's own few
// quick retries) it tries again with backoff for up to within, calling
// retrying before each wait, so a brief outage delays the program instead
// of failing it. Any other error, or ctx's end, returns at once.
func FromEnvWaiting(ctx context.Context, getenv func(string) string, within time.Duration,
	retrying func(err error, wait time.Duration)) (*Codec, error) {
	return waitAvailable(ctx, lazyFirst, within, retrying, func() (*Codec, error) { return FromEnv(ctx, getenv) })
}

// waitAvailable calls open until it succeeds, fails other than with
// encryption.ErrKMSUnavailable, or the next try would start after within:
// the first wait is first, each next twice as long, at most lazyMax.
func waitAvailable(ctx context.Context, first, within time.Duration, retrying func(error, time.Duration),
	open func() (*Codec, error)) (*Codec, error) {
	deadline := time.Now().Add(within)
	for wait := first; ; wait = min(2*wait, lazyMax) {
		c, err := open()
		if err == nil || !errors.Is(err, encryption.ErrKMSUnavailable) || time.Now().Add(wait).After(deadline) {
			return c, err
		}
		if retrying != nil {
			retrying(err, wait)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}
