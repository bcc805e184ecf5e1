//go:build !linux

package fscrypt

import (
	"errors"
	"runtime"
)

var errNotLinux = errors.New("fscrypt is a Linux feature")

func notLinux(op, dir string) error {
	return &UnsupportedError{Op: op, Dir: dir, Cause: "this is " + runtime.GOOS + ", not Linux",
		Fix: "run the node agent on Linux with an ext4 filesystem made with 'mkfs.ext4 -O encrypt'", Err: errNotLinux}
}

// AddKey adds a master key; on this OS it always fails.
func AddKey(dir string, key []byte) (Identifier, error) {
	return Identifier{}, notLinux("add fscrypt key", dir)
}

// RemoveKey removes a master key; on this OS it always fails.
func RemoveKey(dir string, id Identifier) (Removal, error) {
	return Removal{}, notLinux("remove fscrypt key", dir)
}

// KeyStatus reports a key's status; on this OS it always fails.
func KeyStatus(dir string, id Identifier) (Status, error) {
	return 0, notLinux("get fscrypt key status", dir)
}

// SetPolicy encrypts a directory; on this OS it always fails.
func SetPolicy(dir string, id Identifier) error { return notLinux("set fscrypt policy", dir) }

// GetPolicy reads a directory's policy; on this OS it always fails.
func GetPolicy(dir string) (Policy, error) { return Policy{}, notLinux("get fscrypt policy", dir) }

// CheckSupport tells whether dir can be encrypted; on this OS it cannot.
func CheckSupport(dir string) error { return notLinux("check fscrypt support", dir) }
