package emulator

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// wrapFormatVersion is the "version" of a wrapped DEK, as the real service
// emits it.
const wrapFormatVersion = "4.0.0"

// errCiphertext is the one error for every ciphertext that cannot be
// opened: wrong AAD, tampering, another key, or a malformed document.
var errCiphertext = errors.New("ciphertext is invalid or corrupted")

func newGCM(k []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// materialAD binds sealed key material to its key and version.
func materialAD(keyID, versionID string) []byte {
	return []byte("byokflow-emulator/material\x00" + keyID + "\x00" + versionID)
}

// sealMaterial encrypts key material under the master key: nonce ‖ sealed.
func sealMaterial(master cipher.AEAD, keyID, versionID string, material []byte) []byte {
	nonce := randomBytes(master.NonceSize())
	return master.Seal(nonce, nonce, material, materialAD(keyID, versionID))
}

func openMaterial(master cipher.AEAD, keyID, versionID string, sealed []byte) ([]byte, error) {
	n := master.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("open material of key %s version %s: too short", keyID, versionID)
	}
	pt, err := master.Open(nil, sealed[:n], sealed[n:], materialAD(keyID, versionID))
	if err != nil {
		return nil, fmt.Errorf("open material of key %s version %s: wrong master key or corrupted state", keyID, versionID)
	}
	return pt, nil
}

// wrappedDoc is the opaque ciphertext: base64 of this JSON document.
type wrappedDoc struct {
	Ciphertext string `json:"ciphertext"`
	IV         string `json:"iv"`
	Version    string `json:"version"`
	Handle     string `json:"handle"` // key version ID
}

// wrapAD is the GCM additional data: key ID, key version and the caller's
// AAD list, canonically encoded.
func wrapAD(keyID, versionID string, aad []string) []byte {
	if aad == nil {
		aad = []string{}
	}
	b, _ := json.Marshal(struct {
		Key     string   `json:"key"`
		Version string   `json:"version"`
		AAD     []string `json:"aad"`
	}{keyID, versionID, aad})
	return b
}

// wrapDEK seals dek under a key version and returns the opaque ciphertext.
func wrapDEK(keyID string, v *keyVersion, dek []byte, aad []string) string {
	iv := randomBytes(v.aead.NonceSize())
	ct := v.aead.Seal(nil, iv, dek, wrapAD(keyID, v.ID, aad))
	doc, _ := json.Marshal(wrappedDoc{
		Ciphertext: base64.StdEncoding.EncodeToString(ct),
		IV:         base64.StdEncoding.EncodeToString(iv),
		Version:    wrapFormatVersion,
		Handle:     v.ID,
	})
	return base64.StdEncoding.EncodeToString(doc)
}

// parseWrapped decodes the outer document; it does not authenticate.
func parseWrapped(doc []byte) (wrappedDoc, []byte, []byte, error) {
	var w wrappedDoc
	if err := json.Unmarshal(doc, &w); err != nil || w.Handle == "" {
		return w, nil, nil, errCiphertext
	}
	ct, err1 := base64.StdEncoding.DecodeString(w.Ciphertext)
	iv, err2 := base64.StdEncoding.DecodeString(w.IV)
	if err1 != nil || err2 != nil || len(iv) != 12 {
		return w, nil, nil, errCiphertext
	}
	return w, ct, iv, nil
}

// unwrapDEK opens a ciphertext of the given key and returns the DEK and
// the version that sealed it.
func unwrapDEK(k *key, doc []byte, aad []string) ([]byte, *keyVersion, error) {
	w, ct, iv, err := parseWrapped(doc)
	if err != nil {
		return nil, nil, err
	}
	v := k.version(w.Handle)
	if v == nil || v.aead == nil {
		return nil, nil, errCiphertext
	}
	dek, err := v.aead.Open(nil, iv, ct, wrapAD(k.ID, v.ID, aad))
	if err != nil {
		return nil, nil, errCiphertext
	}
	return dek, v, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
