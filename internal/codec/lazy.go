package codec

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
)

// ErrNotReady is what a Lazy codec answers while its keyring is not open
// yet (Key Protect has not unwrapped the codec keys).
var ErrNotReady = errors.New("the payload codec is not ready: Key Protect has not unwrapped the codec keys yet; will retry")

// The retries of Lazy.Open: the first after lazyFirst, each next twice as
// late, at most lazyMax apart.
const (
	lazyFirst = time.Second
	lazyMax   = 15 * time.Second
)

// Lazy is a payload codec whose keyring is opened in the background: a
// worker can poll its task queue while Key Protect is slow or down, and
// seals and opens payloads from the moment the keyring is open. Until then
// Encode and Decode fail with ErrNotReady, which fails the task at hand
// (Temporal retries it); they never wait for Key Protect themselves.
type Lazy struct {
	open  func(context.Context) (*Codec, error)
	mu    sync.RWMutex
	c     *Codec
	ready chan struct{}
}

// NewLazy returns a codec that open opens (for example FromEnv); call Open
// to open it.
func NewLazy(open func(context.Context) (*Codec, error)) *Lazy {
	return &Lazy{open: open, ready: make(chan struct{})}
}

// Open opens the keyring, retrying with backoff until it is open or ctx
// ends, logging each failure.
func (l *Lazy) Open(ctx context.Context, log *slog.Logger) {
	wait := lazyFirst
	for {
		c, err := l.open(ctx)
		if err == nil {
			l.mu.Lock()
			l.c = c
			l.mu.Unlock()
			close(l.ready)
			log.Info("payload codec on", "keys", len(c.KeyIDs()))
			return
		}
		log.Warn("open the payload codec", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, lazyMax)
	}
}

// Wait waits up to d for the keyring to open and reports whether it is.
func (l *Lazy) Wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.ready:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

// Ready is closed once the keyring is open.
func (l *Lazy) Ready() <-chan struct{} { return l.ready }

func (l *Lazy) codec() (*Codec, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.c == nil {
		return nil, ErrNotReady
	}
	return l.c, nil
}

// Encode seals payloads once the keyring is open.
func (l *Lazy) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	c, err := l.codec()
	if err != nil {
		return nil, err
	}
	return c.Encode(payloads)
}

// Decode opens payloads once the keyring is open.
func (l *Lazy) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	c, err := l.codec()
	if err != nil {
		return nil, err
	}
	return c.Decode(payloads)
}
