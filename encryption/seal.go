package encryption

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
)

const (
	sealMagic     = "BYOKSEAL"
	sealVersion   = 1
	sealPrefixLen = len(sealMagic) + 1 + saltSize
)

// SealOverhead is how many bytes Seal adds to a plaintext.
const SealOverhead = sealPrefixLen + tagSize

// Seal encrypts and authenticates a small record (such as a node's key slot)
// under a key derived from dek, bound to context; see the package doc for
// the format. The whole record is held in memory: use NewWriter for large
// data.
func Seal(dek *DataKey, plaintext []byte, context string) ([]byte, error) {
	return seal(rand.Reader, dek, plaintext, context)
}

func seal(rnd io.Reader, dek *DataKey, plaintext []byte, context string) ([]byte, error) {
	out := make([]byte, sealPrefixLen, SealOverhead+len(plaintext))
	copy(out, sealMagic)
	out[len(sealMagic)] = sealVersion
	salt := out[len(sealMagic)+1:]
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, fmt.Errorf("encryption: seal: read random: %w", err)
	}
	aead, err := sealAEAD(dek, salt, context)
	if err != nil {
		return nil, fmt.Errorf("encryption: seal: %w", err)
	}
	var nonce [nonceSize]byte
	return aead.Seal(out, nonce[:], plaintext, out[:sealPrefixLen]), nil
}

// Open authenticates and decrypts a record made by Seal with the same key
// and context. A record that is not a version 1 record at all gives an
// error wrapping ErrFormat; every other failure (wrong key or context, any
// change) gives ErrAuthentication.
func Open(dek *DataKey, sealed []byte, context string) ([]byte, error) {
	if len(sealed) < SealOverhead {
		return nil, fmt.Errorf("%w: record of %d bytes is shorter than %d", ErrFormat, len(sealed), SealOverhead)
	}
	if string(sealed[:len(sealMagic)]) != sealMagic {
		return nil, fmt.Errorf("%w: not a byokflow sealed record (bad magic)", ErrFormat)
	}
	if v := sealed[len(sealMagic)]; v != sealVersion {
		return nil, fmt.Errorf("%w: unsupported record version %d", ErrFormat, v)
	}
	aead, err := sealAEAD(dek, sealed[len(sealMagic)+1:sealPrefixLen], context)
	if err != nil {
		return nil, fmt.Errorf("encryption: open: %w", err)
	}
	var nonce [nonceSize]byte
	plaintext, err := aead.Open(nil, nonce[:], sealed[sealPrefixLen:], sealed[:sealPrefixLen])
	if err != nil {
		return nil, ErrAuthentication
	}
	return plaintext, nil
}

// sealAEAD returns AES-256-GCM under the record key of salt and context.
func sealAEAD(dek *DataKey, salt []byte, context string) (cipher.AEAD, error) {
	var aead cipher.AEAD
	err := dek.WithBytes(func(key []byte) error {
		k, err := hkdf.Key(sha256.New, key, salt, sealKeyLabel+"\x00"+context, 32)
		if err != nil {
			return err
		}
		defer clear(k)
		aead, err = newGCM(k)
		return err
	})
	return aead, err
}
