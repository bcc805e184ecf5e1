package encryption

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
)

// DataKeySize is the length of a data encryption key: 32 bytes, AES-256.
const DataKeySize = 32

// checkValueLabel is the fixed message of the key check value's HMAC.
const checkValueLabel = "byokflow key check value v1"

// DataKey is a data encryption key (DEK) held in memory. It is a handle:
// copies of a DataKey share one key, and Destroy on any of them destroys it
// for all. Its String, Format, GoString, MarshalJSON, MarshalText and
// LogValue never reveal the key; they show its check value only.
//
// A DataKey is safe for concurrent use. Keys derived from it for a stream
// already opened live on in that stream's cipher state until the stream is
// dropped; Destroy prevents every later use of the DataKey itself.
type DataKey struct {
	s *keyState
}

// keyState is shared by the copies of a DataKey. The key sits behind one
// more pointer so that fmt, which prints an unexported field's pointer
// target when it meets a verb that does not fit a pointer (%s on a struct
// holding a DataKey), still shows only an address.
type keyState struct {
	mu        sync.RWMutex
	key       *[DataKeySize]byte
	destroyed bool
}

func newKeyState() *keyState { return &keyState{key: new([DataKeySize]byte)} }

// NewDataKey returns a fresh random key from crypto/rand.
func NewDataKey() (*DataKey, error) {
	s := newKeyState()
	if _, err := io.ReadFull(rand.Reader, s.key[:]); err != nil {
		return nil, fmt.Errorf("encryption: generate data key: %w", err)
	}
	testHookKeyMade(s.key[:])
	return &DataKey{s: s}, nil
}

// NewDataKeyFromBytes returns a key holding a copy of b, which must be
// DataKeySize bytes long. It does not modify b: zeroing the caller's copy
// (clear(b)) is the caller's choice, and usually the right one.
func NewDataKeyFromBytes(b []byte) (*DataKey, error) {
	if len(b) != DataKeySize {
		return nil, fmt.Errorf("encryption: data key must be %d bytes, got %d", DataKeySize, len(b))
	}
	s := newKeyState()
	copy(s.key[:], b)
	testHookKeyMade(s.key[:])
	return &DataKey{s: s}, nil
}

// Destroy zeroes the key. Every later use of k (and of its copies) fails
// with ErrKeyDestroyed. Destroy is idempotent and waits for running
// WithBytes calls to return.
func (k *DataKey) Destroy() {
	if k == nil || k.s == nil {
		return
	}
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	clear(k.s.key[:])
	k.s.destroyed = true
}

// Destroyed reports whether k no longer holds a key.
func (k *DataKey) Destroyed() bool {
	if k == nil || k.s == nil {
		return true
	}
	k.s.mu.RLock()
	defer k.s.mu.RUnlock()
	return k.s.destroyed
}

// WithBytes calls fn with the key bytes and returns fn's error, or
// ErrKeyDestroyed without calling fn. The slice is valid only during fn:
// fn must not retain, modify or log it, and must not call Destroy.
func (k *DataKey) WithBytes(fn func(key []byte) error) error {
	if k == nil || k.s == nil {
		return ErrKeyDestroyed
	}
	k.s.mu.RLock()
	defer k.s.mu.RUnlock()
	if k.s.destroyed {
		return ErrKeyDestroyed
	}
	return fn(k.s.key[:])
}

// CheckValue returns the key check value: 16 hex characters, the first 8
// bytes of HMAC-SHA256 keyed with the key over a fixed label. It identifies
// a key in status reports and logs without revealing anything about it.
func (k *DataKey) CheckValue() (string, error) {
	var kcv string
	err := k.WithBytes(func(key []byte) error {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(checkValueLabel))
		kcv = hex.EncodeToString(m.Sum(nil)[:8])
		return nil
	})
	return kcv, err
}

// String returns "DataKey(kcv=<check value>)", or "DataKey(destroyed)".
func (k DataKey) String() string {
	kcv, err := k.CheckValue()
	if err != nil {
		return "DataKey(destroyed)"
	}
	return "DataKey(kcv=" + kcv + ")"
}

// GoString returns the same as String, so %#v shows no key bytes.
func (k DataKey) GoString() string { return k.String() }

// Format writes String for every verb (%v, %+v, %#v, %s, %x, %q, ...).
func (k DataKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// MarshalJSON encodes the key as the JSON string of String.
func (k DataKey) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, k.String()), nil
}

// MarshalText encodes the key as String.
func (k DataKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// LogValue makes slog log String.
func (k DataKey) LogValue() slog.Value { return slog.StringValue(k.String()) }
