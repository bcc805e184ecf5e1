package encryption

import "context"

// WrappedKey is a data key wrapped (encrypted) under a root key in a KMS.
// None of it is secret: it may be stored, logged and passed in workflows.
type WrappedKey struct {
	// RootKeyID names the root key in the KMS.
	RootKeyID string
	// KeyVersion names the root key version that wrapped the data key.
	KeyVersion string
	// Ciphertext is the KMS's opaque wrapped key, kept byte for byte as the
	// KMS returned it.
	Ciphertext []byte
}

// KeyWrapper wraps and unwraps data keys under a customer's root key in a
// KMS. The aad strings are additional authenticated data: unwrapping needs
// exactly the aad given to wrap (for example the instance and node ids).
//
// Errors wrap ErrRootKeyDestroyed, ErrRootKeySuspended, ErrRootKeyNotFound,
// ErrNotAuthorized, ErrKMSUnavailable or ErrInvalidCiphertext where the
// failure is one of those, and never contain key material.
type KeyWrapper interface {
	// WrapKey wraps dek under the newest version of the root key rootKeyID.
	WrapKey(ctx context.Context, rootKeyID string, dek *DataKey, aad []string) (WrappedKey, error)
	// UnwrapKey recovers the data key of wk. When wk was wrapped under an
	// older root key version and the KMS offers the same key rewrapped under
	// the newest version, rewrapped holds it so that the caller can persist
	// it; otherwise rewrapped is nil.
	UnwrapKey(ctx context.Context, wk WrappedKey, aad []string) (dek *DataKey, rewrapped *WrappedKey, err error)
}

// Rewrap returns wk rewrapped under the newest version of its root key, and
// true, when w offers a rewrapped form on unwrap; otherwise it returns wk
// unchanged and false. The data key it unwraps on the way is destroyed
// before Rewrap returns.
func Rewrap(ctx context.Context, w KeyWrapper, wk WrappedKey, aad []string) (WrappedKey, bool, error) {
	dek, rewrapped, err := w.UnwrapKey(ctx, wk, aad)
	if err != nil {
		return WrappedKey{}, false, err
	}
	dek.Destroy()
	if rewrapped == nil {
		return wk, false, nil
	}
	return *rewrapped, true, nil
}
