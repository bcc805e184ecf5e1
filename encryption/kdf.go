package encryption

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

const (
	headerKeyLabel  = "byokflow stream v1 header key"
	payloadKeyLabel = "byokflow stream v1 payload key"
	sealKeyLabel    = "byokflow seal v1"
	nonceSize       = 12
)

// streamKeys derives the header mac key and the payload key of a stream
// from its data key, salt and header transcript (see the package doc).
func streamKeys(dek *DataKey, salt, transcript []byte) (headerKey, payloadKey []byte, err error) {
	err = dek.WithBytes(func(key []byte) error {
		prk, err := hkdf.Extract(sha256.New, key, salt)
		if err != nil {
			return err
		}
		defer clear(prk)
		if headerKey, err = hkdf.Expand(sha256.New, prk, headerKeyLabel, 32); err != nil {
			return err
		}
		info := payloadKeyLabel + "\x00" + string(transcript)
		payloadKey, err = hkdf.Expand(sha256.New, prk, info, 32)
		return err
	})
	return headerKey, payloadKey, err
}

// headerMAC returns HMAC-SHA256(key, transcript).
func headerMAC(key, transcript []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(transcript)
	return m.Sum(nil)
}

// newGCM returns AES-256-GCM under key.
func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// setNonce writes prefix || counter || last flag into nonce.
func setNonce(nonce *[nonceSize]byte, prefix *[noncePrefixSize]byte, counter uint64, last bool) {
	copy(nonce[:], prefix[:])
	binary.BigEndian.PutUint32(nonce[noncePrefixSize:], uint32(counter))
	nonce[nonceSize-1] = 0
	if last {
		nonce[nonceSize-1] = 1
	}
}
