// Package keyprotect is an encryption.KeyWrapper backed by IBM Key Protect
// (and Hyper Protect Crypto Services, which serves the same API) through
// github.com/IBM/keyprotect-go-client. It imports the encryption package and
// the Key Protect client only; nothing in encryption may import it.
package keyprotect

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/encryption"
)

// keyProtect is the part of *kp.Client the Wrapper uses.
type keyProtect interface {
	WrapV2(ctx context.Context, idOrAlias string, plainText []byte, additionalAuthData *[]string) (*kp.KeyActionResponse, error)
	UnwrapV2(ctx context.Context, idOrAlias string, cipherText []byte, additionalAuthData *[]string) ([]byte, []byte, error)
	GetKeyMetadata(ctx context.Context, idOrAlias string) (*kp.Key, error)
}

var (
	_ keyProtect            = (*kp.Client)(nil)
	_ encryption.KeyWrapper = (*Wrapper)(nil)
)

// Wrapper wraps and unwraps data keys with Key Protect root keys. It is
// safe for concurrent use when its client is (a *kp.Client is).
type Wrapper struct {
	client keyProtect
}

// New returns a Wrapper that calls Key Protect through client, which
// carries the endpoint, instance and credentials (for nodes: the service
// identity, which Key Protect lets wrap and unwrap while the IAM
// authorization exists).
func New(client *kp.Client) *Wrapper { return &Wrapper{client: client} }

// WrapKey wraps dek under the newest version of root key rootKeyID with aad
// (Key Protect's WrapV2). The result's Ciphertext is Key Protect's
// ciphertext, the base64 text exactly as returned (it is opaque), and its
// KeyVersion the version Key Protect reports having used.
func (w *Wrapper) WrapKey(ctx context.Context, rootKeyID string, dek *encryption.DataKey, aad []string) (encryption.WrappedKey, error) {
	var b64 []byte // the client sends plaintext as base64 text
	err := dek.WithBytes(func(key []byte) error {
		b64 = make([]byte, base64.StdEncoding.EncodedLen(len(key)))
		base64.StdEncoding.Encode(b64, key)
		return nil
	})
	if err != nil {
		return encryption.WrappedKey{}, fmt.Errorf("wrap data key under root key %s: %w", rootKeyID, err)
	}
	resp, err := w.client.WrapV2(ctx, rootKeyID, b64, aadArg(aad))
	clear(b64) // the client's own copies are strings, beyond our reach
	if err != nil {
		return encryption.WrappedKey{}, classify(opWrap, rootKeyID, err)
	}
	if resp == nil || resp.CipherText == "" {
		return encryption.WrappedKey{}, fmt.Errorf("wrap data key under root key %s: key protect returned no ciphertext", rootKeyID)
	}
	wk := encryption.WrappedKey{RootKeyID: rootKeyID, Ciphertext: []byte(resp.CipherText)}
	if resp.KeyVersion != nil {
		wk.KeyVersion = resp.KeyVersion.ID
	}
	if wk.KeyVersion == "" { // Key Protect always says; other servers may not
		if wk.KeyVersion, err = w.newestVersion(ctx, rootKeyID); err != nil {
			return encryption.WrappedKey{}, err
		}
	}
	return wk, nil
}

// UnwrapKey unwraps wk with aad (Key Protect's UnwrapV2).
//
// When wk was wrapped under an older version of its root key, Key Protect
// returns the data key rewrapped under the newest version too; UnwrapV2
// hands over that ciphertext but not its version. UnwrapKey then reads the
// root key's newest version with GetKeyMetadata and returns the rewrapped
// key labelled with it. A rotation landing between the two calls would label
// the rewrapped key one version too new; Key Protect allows one rotation an
// hour, the ciphertext itself stays valid (Key Protect keeps every version
// until the key is deleted), and the next unwrap offers a fresh rewrap.
// When the metadata cannot be read, the rewrap offer is dropped (rewrapped
// is nil) rather than failing an unwrap that succeeded; it comes back on the
// next unwrap.
func (w *Wrapper) UnwrapKey(ctx context.Context, wk encryption.WrappedKey, aad []string) (*encryption.DataKey, *encryption.WrappedKey, error) {
	plaintext, rewrapped, err := w.client.UnwrapV2(ctx, wk.RootKeyID, wk.Ciphertext, aadArg(aad))
	defer clear(plaintext)
	if err != nil {
		return nil, nil, classify(opUnwrap, wk.RootKeyID, err)
	}
	dek, err := decodeDataKey(plaintext)
	if err != nil {
		return nil, nil, fmt.Errorf("unwrap data key with root key %s: %w", wk.RootKeyID, err)
	}
	if len(rewrapped) == 0 {
		return dek, nil, nil
	}
	version, err := w.newestVersion(ctx, wk.RootKeyID)
	if errors.Is(err, encryption.ErrKMSUnavailable) {
		// A transient failure must not pass for "no newer version": a
		// rewrap would report the node done under the old one. Retry.
		dek.Destroy()
		return nil, nil, err
	}
	if err != nil || version == wk.KeyVersion {
		return dek, nil, nil // metadata refused for good: the offer is dropped, the DEK is good
	}
	return dek, &encryption.WrappedKey{RootKeyID: wk.RootKeyID, KeyVersion: version, Ciphertext: rewrapped}, nil
}

// newestVersion returns the id of the root key's newest version.
func (w *Wrapper) newestVersion(ctx context.Context, rootKeyID string) (string, error) {
	key, err := w.client.GetKeyMetadata(ctx, rootKeyID)
	if err != nil {
		return "", classify(opMetadata, rootKeyID, err)
	}
	if key == nil || key.KeyVersion == nil || key.KeyVersion.ID == "" {
		return "", fmt.Errorf("read metadata of root key %s: key protect reported no key version", rootKeyID)
	}
	return key.KeyVersion.ID, nil
}

// decodeDataKey decodes the base64 plaintext the client returns. Errors
// never quote the plaintext.
func decodeDataKey(b64 []byte) (*encryption.DataKey, error) {
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	defer clear(raw)
	n, err := base64.StdEncoding.Decode(raw, b64)
	if err != nil {
		return nil, errors.New("key protect returned a plaintext that is not base64")
	}
	if n != encryption.DataKeySize {
		return nil, fmt.Errorf("key protect returned a %d-byte plaintext, want a %d-byte data key", n, encryption.DataKeySize)
	}
	return encryption.NewDataKeyFromBytes(raw[:n])
}

// aadArg passes nil for no aad, so that the client omits the field.
func aadArg(aad []string) *[]string {
	if aad == nil {
		return nil
	}
	return &aad
}
