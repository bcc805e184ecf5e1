// Package scram makes PostgreSQL SCRAM-SHA-256 password verifiers, so that a
// database role can be given a password without the plaintext ever reaching
// the server, a log line or a workflow: ALTER ROLE ... PASSWORD 'SCRAM-...'
// stores the verifier as it is.
//
// The format is PostgreSQL's (src/common/scram-common.c, scram_build_secret):
//
//	SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
//
// with the keys of RFC 5802 section 3 over SHA-256 (RFC 7677), standard
// base64 with padding. It is written here because no well-kept Go library
// builds the server side of SCRAM in PostgreSQL's text format; it is a few
// lines over crypto/pbkdf2 and crypto/hmac.
//
// This package imports the standard library only (its tests also start a
// real server with node/pgserver, to log in with a verifier it made).
package scram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Iterations is the PBKDF2 iteration count of every verifier Verifier makes;
// it is PostgreSQL's default (scram_iterations).
const Iterations = 4096

const (
	prefix  = "SCRAM-SHA-256$"
	saltLen = 16
	keyLen  = sha256.Size
)

// ErrMalformed is returned by Check for a string that is not a SCRAM-SHA-256
// verifier. PostgreSQL would take such a string for a plaintext password and
// hash it, so callers must not pass it on.
var ErrMalformed = errors.New("not a SCRAM-SHA-256 verifier")

// Verifier returns the SCRAM-SHA-256 verifier of password with a random
// 16-byte salt and 4096 iterations. The password must be printable ASCII:
// PostgreSQL applies SASLprep (NFKC) to other passwords, which the standard
// library cannot reproduce, so a verifier of them might not match.
func Verifier(password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("make verifier: read random salt: %w", err)
	}
	return build(password, salt, Iterations)
}

// NewPassword returns a random password of 32 URL-safe characters
// (192 bits), fit for Verifier and for a connection string.
func NewPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make password: read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Check reports whether v is a well-formed SCRAM-SHA-256 verifier, as
// PostgreSQL's parse_scram_secret would accept it. Its error wraps
// ErrMalformed and never quotes v.
func Check(v string) error {
	rest, ok := strings.CutPrefix(v, prefix)
	iter, rest, ok2 := strings.Cut(rest, ":")
	salt, keys, ok3 := strings.Cut(rest, "$")
	stored, server, ok4 := strings.Cut(keys, ":")
	if !ok || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("check verifier: %w: want SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", ErrMalformed)
	}
	if n, err := strconv.Atoi(iter); err != nil || n <= 0 {
		return fmt.Errorf("check verifier: %w: iteration count is not a positive number", ErrMalformed)
	}
	if b, err := base64.StdEncoding.DecodeString(salt); err != nil || len(b) == 0 {
		return fmt.Errorf("check verifier: %w: salt is not base64", ErrMalformed)
	}
	for _, k := range []string{stored, server} {
		if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != keyLen {
			return fmt.Errorf("check verifier: %w: keys must be 32 bytes in base64", ErrMalformed)
		}
	}
	return nil
}

// build formats the verifier of password under salt and iter.
func build(password string, salt []byte, iter int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, keyLen)
	if err != nil {
		return "", fmt.Errorf("make verifier: derive salted password: %w", err)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	serverKey := mac(salted, "Server Key")
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("%s%d:%s$%s:%s", prefix, iter, enc(salt), enc(stored[:]), enc(serverKey)), nil
}

// mac is HMAC-SHA-256(key, msg).
func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// checkPassword refuses passwords PostgreSQL would normalize differently.
func checkPassword(p string) error {
	if p == "" {
		return errors.New("make verifier: empty password: use NewPassword")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] > 0x7e {
			return errors.New("make verifier: password has a character outside printable ASCII: use NewPassword")
		}
	}
	return nil
}
