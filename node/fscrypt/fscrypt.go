// Package fscrypt locks and unlocks a database node's storage with Linux
// filesystem encryption (fscrypt, v2 policies). A node's data directory is a
// directory with an fscrypt policy naming a 64-byte master key; while the key
// is added to the filesystem the node's files read as plaintext, once it is
// removed they are ciphertext with encrypted names, on disk and through the
// file API alike.
//
// The package talks to the kernel through the fscrypt ioctls and nothing
// else: it never derives, stores or logs a master key (the node agent derives
// it from the node's DEK), and it never falls back to unencrypted storage:
// when the kernel or filesystem cannot encrypt, the functions say so with an
// *UnsupportedError naming the cause and the fix. It is written by hand
// because the only well-kept library, github.com/google/fscrypt, is a whole
// key-management tool (protectors, metadata files, PAM) whose model is not
// ours; the ioctls themselves are small.
//
// This package may import only the standard library and golang.org/x/sys/unix.
// It works on Linux only; elsewhere every function returns an
// *UnsupportedError.
package fscrypt

import (
	"crypto/hkdf"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the size in bytes of a master key: AES-256-XTS needs 64.
const KeySize = 64

// Protection names the protection SetPolicy applies, for node reports.
const Protection = "fscrypt v2 aes-256-xts"

// ErrNotEncrypted is returned by GetPolicy for a directory without a policy.
var ErrNotEncrypted = errors.New("directory is not encrypted")

// ErrOtherPolicy is returned by SetPolicy when the directory already has a
// different policy (another key, other modes, or a v1 policy).
var ErrOtherPolicy = errors.New("directory already has another fscrypt policy")

// Identifier is a v2 master key identifier: a hash of the key computed by the
// kernel, safe to log and to put in reports.
type Identifier [16]byte

// String returns the identifier as 32 lower-case hex digits.
func (id Identifier) String() string { return hex.EncodeToString(id[:]) }

// ParseIdentifier parses the form String returns.
func ParseIdentifier(s string) (Identifier, error) {
	var id Identifier
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("parse fscrypt key identifier %q: want 32 hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// ComputeIdentifier returns the identifier the kernel assigns to key,
// computed the kernel's way (HKDF-SHA512, info "fscrypt\0" and context 1), so
// a report can name the key without the key being added.
func ComputeIdentifier(key []byte) (Identifier, error) {
	var id Identifier
	if len(key) != KeySize {
		return id, fmt.Errorf("compute fscrypt key identifier: key is %d bytes: want %d", len(key), KeySize)
	}
	out, err := hkdf.Key(sha512.New, key, nil, "fscrypt\x00\x01", len(id))
	if err != nil {
		return id, fmt.Errorf("compute fscrypt key identifier: %w", err)
	}
	copy(id[:], out)
	clear(out)
	return id, nil
}

// Mode is an fscrypt encryption mode (FSCRYPT_MODE_* of linux/fscrypt.h).
type Mode uint8

// The modes SetPolicy uses; values are those of linux/fscrypt.h.
const (
	ModeAES256XTS Mode = 1 // contents
	ModeAES256CTS Mode = 4 // file names
)

var modeNames = map[Mode]string{
	1: "aes-256-xts", 4: "aes-256-cts", 5: "aes-128-cbc", 6: "aes-128-cts",
	7: "sm4-xts", 8: "sm4-cts", 9: "adiantum", 10: "aes-256-hctr2",
}

// String returns the mode's name as the kernel documentation spells it.
func (m Mode) String() string {
	if n, ok := modeNames[m]; ok {
		return n
	}
	return fmt.Sprintf("mode-%d", uint8(m))
}

// FlagsPad32 pads encrypted file names to a multiple of 32 bytes
// (FSCRYPT_POLICY_FLAGS_PAD_32), hiding name lengths best.
const FlagsPad32 = 0x03

// Policy is a directory's fscrypt policy as the kernel reports it.
type Policy struct {
	Version   int        // 2 for v2 policies, 1 for legacy v1 ones
	Contents  Mode       // file contents mode
	Filenames Mode       // file names mode
	Flags     uint8      // FSCRYPT_POLICY_FLAG* bits
	Key       Identifier // master key identifier (zero for v1 policies)
}

// want is the policy SetPolicy applies for key id.
func want(id Identifier) Policy {
	return Policy{Version: 2, Contents: ModeAES256XTS, Filenames: ModeAES256CTS, Flags: FlagsPad32, Key: id}
}

// Protection names the policy for reports, e.g. "fscrypt v2 aes-256-xts".
func (p Policy) Protection() string {
	return fmt.Sprintf("fscrypt v%d %s", p.Version, p.Contents)
}

// String describes the whole policy, e.g. for errors.
func (p Policy) String() string {
	return fmt.Sprintf("v%d %s/%s flags %#x key %s", p.Version, p.Contents, p.Filenames, p.Flags, p.Key)
}

// Removal is what RemoveKey achieved.
type Removal struct {
	// Absent: the key was not on the filesystem; nothing was removed.
	Absent bool
	// FilesBusy: the key can unlock no new file, but files of it are still
	// open (the server was not stopped) and stay readable until closed; call
	// RemoveKey again once they are.
	FilesBusy bool
	// OtherUsers: other users added the same key and still hold it.
	OtherUsers bool
}

// Complete reports whether the key is gone from the filesystem.
func (r Removal) Complete() bool { return !r.FilesBusy && !r.OtherUsers }

// String describes the removal for a shred certificate.
func (r Removal) String() string {
	switch {
	case r.Absent:
		return "already absent"
	case r.FilesBusy:
		return "incomplete: files busy"
	case r.OtherUsers:
		return "incomplete: other users hold the key"
	}
	return "removed"
}

// Status is whether a master key is on a filesystem.
type Status int

// The key statuses of FS_IOC_GET_ENCRYPTION_KEY_STATUS.
const (
	StatusAbsent              Status = 1 // not added, or fully removed
	StatusPresent             Status = 2 // added: its files are readable
	StatusIncompletelyRemoved Status = 3 // removed while files were busy
)

// String returns "absent", "present" or "incompletely removed".
func (s Status) String() string {
	switch s {
	case StatusAbsent:
		return "absent"
	case StatusPresent:
		return "present"
	case StatusIncompletelyRemoved:
		return "incompletely removed"
	}
	return fmt.Sprintf("status-%d", int(s))
}

// UnsupportedError says that a filesystem or kernel cannot give a directory
// fscrypt protection, why, and what to do about it.
type UnsupportedError struct {
	Op    string // what was attempted, e.g. "check fscrypt support"
	Dir   string // the directory
	Cause string // what is missing, in words
	Fix   string // what to do
	Err   error  // the underlying error, often a unix.Errno
}

// Error reads "OP on DIR: CAUSE: FIX".
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s on %s: %s: %s", e.Op, e.Dir, e.Cause, e.Fix)
}

// Unwrap returns the underlying error.
func (e *UnsupportedError) Unwrap() error { return e.Err }
