// Package fscrypttest gives tests a real ext4 filesystem to encrypt: an image
// file in a temporary directory, attached to a loop device and mounted, all
// undone when the test ends. It needs root and loop devices; without them the
// test is skipped with one fixed message.
//
// It may import only the standard library; it runs mkfs.ext4, losetup, mount,
// umount and sync.
package fscrypttest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// SkipMessage is the one reason tests give when they cannot make a volume.
const SkipMessage = "fscrypttest: needs root and loop devices (run make test as root)"

// Options say what volume New makes.
type Options struct {
	SizeMiB   int  // size of the image; 0 means 64
	NoEncrypt bool // make the ext4 filesystem without the encrypt feature
}

// Vol is a mounted loop volume.
type Vol struct {
	Dir    string // mount point: mode 0755, under a 0755 directory in /tmp
	Image  string // the image file holding the filesystem
	Device string // the loop device, e.g. /dev/loop3
}

// Volume makes a mounted ext4 volume with the encrypt feature of sizeMiB and
// returns its mount point.
func Volume(t testing.TB, sizeMiB int) string {
	t.Helper()
	return New(t, Options{SizeMiB: sizeMiB}).Dir
}

// New makes a mounted ext4 volume as o says. Its cleanup unmounts it (the
// test fails when something still holds it), detaches the loop device and
// removes the files.
func New(t testing.TB, o Options) *Vol {
	t.Helper()
	SkipUnlessRoot(t)
	if o.SizeMiB == 0 {
		o.SizeMiB = 64
	}
	// t.TempDir is 0700; the postgres user must be able to traverse this.
	base, err := os.MkdirTemp("", "fscrypttest-")
	if err != nil {
		t.Fatalf("make volume directory: %v", err)
	}
	v := &Vol{Dir: filepath.Join(base, "mnt"), Image: filepath.Join(base, "volume.img")}
	if err := v.make(o); err != nil {
		os.RemoveAll(base)
		t.Fatalf("make volume: %v", err)
	}
	if v.Device, err = run("losetup", "--find", "--show", v.Image); err != nil {
		os.RemoveAll(base)
		t.Fatalf("attach volume image: %v", err)
	}
	if _, err := run("mount", "-t", "ext4", v.Device, v.Dir); err != nil {
		run("losetup", "-d", v.Device)
		os.RemoveAll(base)
		t.Fatalf("mount volume: %v", err)
	}
	t.Cleanup(func() { v.teardown(t, base) })
	if err := os.Chmod(v.Dir, 0o755); err != nil {
		t.Fatalf("chmod volume root: %v", err)
	}
	return v
}

// SkipUnlessRoot skips t with SkipMessage unless it runs as root on Linux
// with loop devices and the ext4 tools.
func SkipUnlessRoot(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip(SkipMessage)
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip(SkipMessage)
	}
	for _, tool := range []string{"mkfs.ext4", "losetup", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(SkipMessage)
		}
	}
}

func (v *Vol) make(o Options) error {
	base := filepath.Dir(v.Dir)
	if err := os.Chmod(base, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(v.Dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(v.Image)
	if err != nil {
		return err
	}
	err = f.Truncate(int64(o.SizeMiB) << 20)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	args := []string{"-q", "-F", "-b", "4096"}
	if !o.NoEncrypt {
		args = append(args, "-O", "encrypt")
	}
	_, err = run("mkfs.ext4", append(args, v.Image)...)
	return err
}

// teardown unmounts, retrying while the filesystem is busy for a moment (a
// closing server); it never unmounts lazily: a volume still in use fails t.
func (v *Vol) teardown(t testing.TB, base string) {
	var err error
	for i := 0; i < 50; i++ {
		if _, err = run("umount", v.Dir); err == nil || !strings.Contains(err.Error(), "busy") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		holders, _ := run("fuser", "-m", v.Dir)
		t.Errorf("unmount test volume %s: %v: processes %s still use it; left mounted on %s: stop it and run umount", v.Dir, err, holders, v.Device)
		return
	}
	if _, err := run("losetup", "-d", v.Device); err != nil {
		t.Errorf("detach test volume: %v", err)
	}
	if err := os.RemoveAll(base); err != nil {
		t.Errorf("remove test volume: %v", err)
	}
}

// DropCaches writes every dirty page out and drops the page cache, so the
// next reads come from the disk (and, for encrypted files, through the
// cipher).
func DropCaches(t testing.TB) {
	t.Helper()
	if _, err := run("sync"); err != nil {
		t.Fatalf("drop page cache: %v", err)
	}
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
		t.Fatalf("drop page cache: %v", err)
	}
}

// run runs a command and returns its trimmed standard output; on failure the
// error carries its standard error.
func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", errors.New(name + " " + strings.Join(args, " ") + ": " + err.Error() + ": " + strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
