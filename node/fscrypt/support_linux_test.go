package fscrypt_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/byokflow/byokflow/node/fscrypt"
	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
	"golang.org/x/sys/unix"
)

func TestCheckSupport_EncryptVolume(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	if err := fscrypt.CheckSupport(vol); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(vol); err != nil || len(entries) != 1 || entries[0].Name() != "lost+found" {
		t.Fatalf("after CheckSupport the volume holds %v, %v; want only lost+found", entries, err)
	}
}

func TestCheckSupport_Unsupported(t *testing.T) {
	fscrypttest.SkipUnlessRoot(t)
	shm, err := os.MkdirTemp("/dev/shm", "fscrypt-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	noEncrypt := fscrypttest.New(t, fscrypttest.Options{SizeMiB: 32, NoEncrypt: true}).Dir
	cases := []struct {
		name, dir string
		errno     unix.Errno
		cause     string
		fix       string
	}{
		{"ext4WithoutEncrypt", noEncrypt, unix.EOPNOTSUPP, "lacks the encrypt feature", "tune2fs -O encrypt"},
		{"tmpfs", shm, unix.ENOTTY, "tmpfs filesystem does not support fscrypt", "mkfs.ext4 -O encrypt"},
		{"missingDir", filepath.Join(noEncrypt, "missing"), unix.ENOENT, "does not exist", "create it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := fscrypt.CheckSupport(c.dir)
			var ue *fscrypt.UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("CheckSupport = %v (%T), want *UnsupportedError", err, err)
			}
			t.Log(err)
			if !errors.Is(err, c.errno) || !strings.Contains(ue.Cause, c.cause) || !strings.Contains(ue.Fix, c.fix) {
				t.Fatalf("got cause %q, fix %q, errno %v; want %v, %q, %q", ue.Cause, ue.Fix, ue.Err, c.errno, c.cause, c.fix)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(c.dir, ".fscrypt-probe-*")); len(leftovers) > 0 {
				t.Fatalf("probe left behind: %v", leftovers)
			}
		})
	}
}

func TestAddKey_UnsupportedFilesystemTyped(t *testing.T) {
	vol := fscrypttest.New(t, fscrypttest.Options{SizeMiB: 32, NoEncrypt: true}).Dir
	_, err := fscrypt.AddKey(vol, newKey(t))
	var ue *fscrypt.UnsupportedError
	if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "add fscrypt key on "+vol+": ") {
		t.Fatalf("AddKey on ext4 without encrypt = %v, want *UnsupportedError", err)
	}
}
