//go:build linux

package fscrypt

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// CheckSupport tells whether directories under dir can be encrypted, by
// really doing it: it makes a probe directory in dir, adds a throwaway random
// key, sets a policy, writes a file through it, removes it all and the key.
// On failure the error is an *UnsupportedError naming the cause and the fix;
// there is no fallback to unencrypted storage.
func CheckSupport(dir string) error {
	const op = "check fscrypt support"
	probe, err := os.MkdirTemp(dir, ".fscrypt-probe-")
	if err != nil {
		return unsupported(op, dir, "make probe directory", err)
	}
	key := make([]byte, KeySize)
	defer clear(key)
	_, _ = rand.Read(key)
	id, err := AddKey(probe, key)
	if err != nil {
		os.Remove(probe)
		return unsupported(op, dir, "add key", err)
	}
	err = tryPolicy(probe, id)
	if rerr := os.RemoveAll(probe); err == nil && rerr != nil {
		err = fmt.Errorf("remove probe: %w", rerr)
	}
	r, kerr := RemoveKey(dir, id)
	switch {
	case err != nil:
		return unsupported(op, dir, "", err)
	case kerr != nil:
		return unsupported(op, dir, "remove key", kerr)
	case !r.Complete():
		return &UnsupportedError{Op: op, Dir: dir, Cause: "removing the probe key was " + r.String(),
			Fix: "make sure nothing else uses the filesystem's fscrypt keys, then check again"}
	}
	return nil
}

// tryPolicy encrypts probe under id and writes a file in it, which makes the
// kernel set up the ciphers (a missing algorithm shows only then).
func tryPolicy(probe string, id Identifier) error {
	if err := SetPolicy(probe, id); err != nil {
		return fmt.Errorf("set policy: %w", err)
	}
	f := filepath.Join(probe, "probe")
	if err := os.WriteFile(f, make([]byte, 4096), 0o600); err != nil {
		return fmt.Errorf("write encrypted file: %w", err)
	}
	if _, err := os.ReadFile(f); err != nil {
		return fmt.Errorf("read encrypted file: %w", err)
	}
	return nil
}

// unsupported turns any failure of CheckSupport into an *UnsupportedError.
func unsupported(op, dir, step string, err error) error {
	cause, fix, _ := diagnose(dir, err)
	var ue *UnsupportedError
	if errors.As(err, &ue) {
		cause, fix = ue.Cause, ue.Fix
	}
	if step != "" {
		cause = step + ": " + cause
	}
	return &UnsupportedError{Op: op, Dir: dir, Cause: cause, Fix: fix, Err: err}
}

// opError describes a failed fscrypt call on dir: an *UnsupportedError when
// the kernel or filesystem cannot encrypt, else err wrapped with what to do.
func opError(op, dir string, err error) error {
	cause, fix, unsup := diagnose(dir, err)
	if unsup {
		return &UnsupportedError{Op: op, Dir: dir, Cause: cause, Fix: fix, Err: err}
	}
	return fmt.Errorf("%s on %s: %s: %s", op, dir, cause, fix)
}

// diagnose is the one place that reads fscrypt's errors: it names the cause
// in words, the fix, and whether it means "this filesystem or kernel cannot".
func diagnose(dir string, err error) (cause, fix string, unsup bool) {
	if errors.Is(err, ErrOtherPolicy) {
		return "the directory is inside an encrypted directory", "use an unencrypted storage root", true
	}
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return err.Error(), "see the kernel log (dmesg) for fscrypt messages", false
	}
	fs := fsName(dir)
	switch errno {
	case unix.EOPNOTSUPP:
		if fs == "ext4" && !kernelHasExt4Encryption() {
			return "the kernel is built without fscrypt (operation not supported)",
				"use a kernel with CONFIG_FS_ENCRYPTION=y", true
		}
		switch fs {
		case "ext4":
			return "the ext4 filesystem lacks the encrypt feature (operation not supported)",
				"enable it with 'tune2fs -O encrypt DEVICE', or make the filesystem with 'mkfs.ext4 -O encrypt'", true
		case "f2fs":
			return "the f2fs filesystem lacks the encrypt feature (operation not supported)",
				"enable it with 'fsck.f2fs -O encrypt DEVICE', or make the filesystem with 'mkfs.f2fs -O encrypt'", true
		}
		return fmt.Sprintf("the %s filesystem does not support fscrypt (operation not supported)", fs), onExt4, true
	case unix.ENOTTY:
		return fmt.Sprintf("the %s filesystem does not support fscrypt (no fscrypt ioctls)", fs), onExt4, true
	case unix.ENOPKG:
		return "the kernel lacks the AES-256-XTS or AES-256-CTS cipher (package not installed)",
			"load them ('modprobe xts cts aes') or use a kernel with CONFIG_CRYPTO_AES, CONFIG_CRYPTO_XTS and CONFIG_CRYPTO_CTS", true
	case unix.EINVAL:
		return "the kernel refuses the policy (invalid argument)", "use Linux 5.4 or later, which has v2 policies", true
	case unix.EPERM, unix.EACCES:
		return errno.Error() + " (fscrypt keys and policies need root or the directory's owner)",
			"run the node agent as root", false
	case unix.ENOKEY:
		return "the directory is inside a locked encrypted directory (required key not available)",
			"use an unencrypted storage root", true
	case unix.EROFS:
		return "the filesystem is read-only", "mount it read-write", false
	case unix.ENOENT, unix.ENOTDIR:
		return "the directory does not exist (" + errno.Error() + ")", "create it, or point the node agent at its storage root", false
	case unix.EDQUOT:
		return "the user's key quota is full", "remove unused fscrypt keys, or run as root", false
	}
	return fmt.Sprintf("%v on a %s filesystem", errno, fs), "see the kernel log (dmesg) for fscrypt messages", false
}

const onExt4 = "put the node's storage on an ext4 filesystem made with 'mkfs.ext4 -O encrypt' (or f2fs)"

// fsName names the type of the filesystem holding path, for messages.
func fsName(path string) string {
	var st unix.Statfs_t
	for ; ; path = filepath.Dir(path) {
		if unix.Statfs(path, &st) == nil {
			break
		}
		if path == filepath.Dir(path) {
			return "unknown"
		}
	}
	if n, ok := fsNames[int64(st.Type)]; ok {
		return n
	}
	return fmt.Sprintf("0x%x", st.Type)
}

var fsNames = map[int64]string{
	unix.EXT4_SUPER_MAGIC: "ext4", unix.F2FS_SUPER_MAGIC: "f2fs", unix.TMPFS_MAGIC: "tmpfs",
	unix.BTRFS_SUPER_MAGIC: "btrfs", unix.XFS_SUPER_MAGIC: "xfs", unix.OVERLAYFS_SUPER_MAGIC: "overlayfs",
	unix.NFS_SUPER_MAGIC: "nfs", unix.FUSE_SUPER_MAGIC: "fuse", unix.CEPH_SUPER_MAGIC: "ceph",
	0x24051905: "ubifs", 0x2fc12fc1: "zfs", 0x858458f6: "ramfs",
}

// kernelHasExt4Encryption: ext4 advertises fscrypt in sysfs when built in.
func kernelHasExt4Encryption() bool {
	_, err := os.Stat("/sys/fs/ext4/features/encryption")
	return err == nil
}
