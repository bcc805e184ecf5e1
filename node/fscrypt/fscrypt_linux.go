//go:build linux

package fscrypt

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// addKeyArg is struct fscrypt_add_key_arg followed by its flexible raw[]
// member, so the kernel reads the key right after the header.
type addKeyArg struct {
	unix.FscryptAddKeyArg
	raw [KeySize]byte
}

// AddKey adds key to the filesystem holding dir (any directory on it) as a
// v2 master key and returns the identifier the kernel computed for it. Adding
// a key that is already there succeeds and returns the same identifier. The
// key must be KeySize bytes; AddKey wipes its own copy, the caller wipes key.
func AddKey(dir string, key []byte) (Identifier, error) {
	var id Identifier
	if len(key) != KeySize {
		return id, fmt.Errorf("add fscrypt key on %s: key is %d bytes: give a %d-byte key", dir, len(key), KeySize)
	}
	fd, err := open(dir)
	if err != nil {
		return id, opError("add fscrypt key", dir, err)
	}
	defer unix.Close(fd)
	arg := new(addKeyArg)
	defer func() { arg.raw = [KeySize]byte{} }()
	arg.Key_spec.Type = unix.FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER
	arg.Raw_size = KeySize
	copy(arg.raw[:], key)
	if err := ioctl(fd, unix.FS_IOC_ADD_ENCRYPTION_KEY, unsafe.Pointer(arg)); err != nil {
		return id, opError("add fscrypt key", dir, err)
	}
	copy(id[:], arg.Key_spec.U[:len(id)])
	return id, nil
}

// RemoveKey removes the caller's claim to key id from the filesystem holding
// dir: the kernel wipes the key and evicts the files it unlocked, so they read
// as ciphertext again. It syncs the filesystem first, and asks again for a
// moment (busyRetries) while the kernel finds files busy: writeback or a
// file being closed holds an inode for an instant, and the kernel's answer to
// that is a retried removal. Files still open after that keep it from
// completing (see Removal.FilesBusy); a key that is not there is reported as
// Absent.
func RemoveKey(dir string, id Identifier) (Removal, error) {
	fd, err := open(dir)
	if err != nil {
		return Removal{}, opError("remove fscrypt key "+id.String(), dir, err)
	}
	defer unix.Close(fd)
	_ = unix.Syncfs(fd) // dirty pages would otherwise keep inodes busy; a failed sync only costs a retry
	r, err := removeKey(fd, id)
	for wait := busyRetryWait; err == nil && r.FilesBusy && wait <= busyRetryMax; wait *= 2 {
		time.Sleep(wait)
		var again Removal
		again, err = removeKey(fd, id)
		if again.Absent { // the last busy inode went meanwhile: the key is gone by our removal
			again = Removal{}
		}
		r = again
	}
	if err != nil {
		return Removal{}, opError("remove fscrypt key "+id.String(), dir, err)
	}
	return r, nil
}

// busyRetryWait and busyRetryMax bound RemoveKey's retries of a busy
// removal: 10 ms doubling to 320 ms, about 0.6 s in all.
const (
	busyRetryWait = 10 * time.Millisecond
	busyRetryMax  = 320 * time.Millisecond
)

// removeKey is one FS_IOC_REMOVE_ENCRYPTION_KEY on fd.
func removeKey(fd int, id Identifier) (Removal, error) {
	var arg unix.FscryptRemoveKeyArg
	arg.Key_spec = specifier(id)
	err := ioctl(fd, unix.FS_IOC_REMOVE_ENCRYPTION_KEY, unsafe.Pointer(&arg))
	if errors.Is(err, unix.ENOKEY) {
		return Removal{Absent: true}, nil
	}
	if err != nil {
		return Removal{}, err
	}
	return Removal{
		FilesBusy:  arg.Removal_status_flags&unix.FSCRYPT_KEY_REMOVAL_STATUS_FLAG_FILES_BUSY != 0,
		OtherUsers: arg.Removal_status_flags&unix.FSCRYPT_KEY_REMOVAL_STATUS_FLAG_OTHER_USERS != 0,
	}, nil
}

// KeyStatus reports whether key id is on the filesystem holding dir.
func KeyStatus(dir string, id Identifier) (Status, error) {
	fd, err := open(dir)
	if err != nil {
		return 0, opError("get fscrypt key status "+id.String(), dir, err)
	}
	defer unix.Close(fd)
	st, err := keyStatus(fd, id)
	if err != nil {
		return 0, opError("get fscrypt key status "+id.String(), dir, err)
	}
	return st, nil
}

func keyStatus(fd int, id Identifier) (Status, error) {
	var arg unix.FscryptGetKeyStatusArg
	arg.Key_spec = specifier(id)
	err := ioctl(fd, unix.FS_IOC_GET_ENCRYPTION_KEY_STATUS, unsafe.Pointer(&arg))
	return Status(arg.Status), err
}

// SetPolicy encrypts the empty directory dir under key id, which must be
// added (StatusPresent): v2, AES-256-XTS contents, AES-256-CTS names padded
// to 32 bytes. Everything created under dir afterwards is encrypted. A
// directory that already has exactly this policy is left as it is, even with
// files in it; one with another policy is refused with ErrOtherPolicy.
func SetPolicy(dir string, id Identifier) error {
	fd, err := open(dir)
	if err != nil {
		return opError("set fscrypt policy", dir, err)
	}
	defer unix.Close(fd)
	// Root (CAP_FOWNER) may set a policy naming a key nobody added; refuse
	// that as the kernel does for other users: a mistyped identifier would
	// make a directory nothing can ever be written into.
	st, err := keyStatus(fd, id)
	if err != nil {
		return opError("set fscrypt policy", dir, err)
	}
	if st != StatusPresent {
		return fmt.Errorf("set fscrypt policy on %s: key %s is not added: %w: add it with AddKey first", dir, id, unix.ENOKEY)
	}
	p := want(id)
	arg := unix.FscryptPolicyV2{
		Version:                   unix.FSCRYPT_POLICY_V2,
		Contents_encryption_mode:  uint8(p.Contents),
		Filenames_encryption_mode: uint8(p.Filenames),
		Flags:                     p.Flags,
		Master_key_identifier:     id,
	}
	err = ioctl(fd, unix.FS_IOC_SET_ENCRYPTION_POLICY, unsafe.Pointer(&arg))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		have, _ := getPolicy(fd)
		return fmt.Errorf("set fscrypt policy on %s: %w (%v, want %v): use a new empty directory for key %s",
			dir, ErrOtherPolicy, have, p, id)
	case errors.Is(err, unix.ENOTEMPTY):
		return fmt.Errorf("set fscrypt policy on %s: %w: set the policy before anything is written into it", dir, err)
	}
	return opError("set fscrypt policy", dir, err)
}

// GetPolicy returns dir's policy, or ErrNotEncrypted when it has none.
func GetPolicy(dir string) (Policy, error) {
	fd, err := open(dir)
	if err != nil {
		return Policy{}, opError("get fscrypt policy", dir, err)
	}
	defer unix.Close(fd)
	p, err := getPolicy(fd)
	if errors.Is(err, unix.ENODATA) {
		return Policy{}, fmt.Errorf("get fscrypt policy on %s: %w", dir, ErrNotEncrypted)
	}
	if err != nil {
		return Policy{}, opError("get fscrypt policy", dir, err)
	}
	return p, nil
}

func getPolicy(fd int) (Policy, error) {
	var arg unix.FscryptGetPolicyExArg
	arg.Size = uint64(len(arg.Policy))
	if err := ioctl(fd, unix.FS_IOC_GET_ENCRYPTION_POLICY_EX, unsafe.Pointer(&arg)); err != nil {
		return Policy{}, err
	}
	if arg.Policy[0] != unix.FSCRYPT_POLICY_V2 {
		v1 := (*unix.FscryptPolicyV1)(unsafe.Pointer(&arg.Policy))
		return Policy{Version: 1, Contents: Mode(v1.Contents_encryption_mode),
			Filenames: Mode(v1.Filenames_encryption_mode), Flags: v1.Flags}, nil
	}
	v2 := (*unix.FscryptPolicyV2)(unsafe.Pointer(&arg.Policy))
	return Policy{Version: 2, Contents: Mode(v2.Contents_encryption_mode),
		Filenames: Mode(v2.Filenames_encryption_mode), Flags: v2.Flags, Key: v2.Master_key_identifier}, nil
}

func specifier(id Identifier) unix.FscryptKeySpecifier {
	s := unix.FscryptKeySpecifier{Type: unix.FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER}
	copy(s.U[:], id[:])
	return s
}

// open opens a directory for the ioctls (a locked directory opens fine; a
// locked regular file does not, hence directories only).
func open(dir string) (int, error) {
	for {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return e
	}
}
