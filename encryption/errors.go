package encryption

import "errors"

// ErrAuthentication is the one error for every authentication failure of a
// stream or a sealed record: a wrong key or context, a changed header, a
// changed, truncated, reordered, dropped, duplicated chunk, or trailing data.
// It deliberately says nothing about what failed.
var ErrAuthentication = errors.New("encryption: message authentication failed")

// ErrFormat reports a stream header or a sealed record that cannot be parsed
// at all: bad magic, unknown version, unsupported chunk size, a field longer
// than its limit, or input that ends inside the header. Errors wrapping it
// say which.
var ErrFormat = errors.New("encryption: invalid format")

// ErrKeyDestroyed is returned by every use of a DataKey after Destroy (and of
// a zero DataKey, which never held a key).
var ErrKeyDestroyed = errors.New("encryption: data key destroyed")

// errWriteAfterClose is returned by Write on a closed Writer.
var errWriteAfterClose = errors.New("encryption: write after close")

// errStreamTooLong is returned by a Writer that would need more than 2^32
// chunks (256 TiB), the counter's range.
var errStreamTooLong = errors.New("encryption: stream exceeds 2^32 chunks")

// Errors that a KeyWrapper returns, wrapped with context, so that callers can
// branch on the failure without knowing which KMS is behind the interface.
// Adapters map their KMS's errors onto these.
var (
	// ErrRootKeyDestroyed: the root key was deleted; wrapped keys under it
	// are unrecoverable unless the KMS can still restore the root key.
	ErrRootKeyDestroyed = errors.New("root key destroyed")
	// ErrRootKeySuspended: the root key exists but is not usable in its
	// current state (disabled; for wrap also expired). Re-enable it.
	ErrRootKeySuspended = errors.New("root key suspended")
	// ErrRootKeyNotFound: no such root key (wrong id, or purged).
	ErrRootKeyNotFound = errors.New("root key not found")
	// ErrNotAuthorized: the caller's credentials or the service
	// authorization do not allow the operation.
	ErrNotAuthorized = errors.New("not authorized to use the root key")
	// ErrKMSUnavailable: the KMS could not be reached or asked to retry
	// later (rate limit, server error, network, deadline). Retry.
	ErrKMSUnavailable = errors.New("key management service unavailable")
	// ErrInvalidCiphertext: the KMS refused the wrapped key: tampered,
	// wrapped under another root key, or unwrapped with other AAD.
	ErrInvalidCiphertext = errors.New("wrapped key invalid for this root key and aad")
)
