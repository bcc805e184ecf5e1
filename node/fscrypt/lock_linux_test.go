package fscrypt_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/byokflow/byokflow/node/fscrypt"
	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
	"golang.org/x/sys/unix"
)

// marker returns a random string that occurs nowhere by chance.
func marker(t testing.TB, prefix string) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

func removeKey(t testing.TB, vol string, id fscrypt.Identifier) fscrypt.Removal {
	t.Helper()
	r, err := fscrypt.RemoveKey(vol, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRemoveKey_LocksDirectory(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	dir, id, key := encryptedDir(t, vol, "data")
	secret := []byte(marker(t, "contents-"))
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), secret, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "secret.txt")); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("read back = %q, %v", got, err)
	}
	if r := removeKey(t, vol, id); r.String() != "removed" {
		t.Fatalf("RemoveKey = %s, want removed", r)
	}
	if st, _ := fscrypt.KeyStatus(vol, id); st != fscrypt.StatusAbsent {
		t.Fatalf("KeyStatus after removal = %v, want absent", st)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() == "secret.txt" {
		t.Fatalf("locked directory lists %v, %v; want one encrypted name", entries, err)
	}
	t.Logf("locked directory lists %q", entries[0].Name())
	if _, err := os.ReadFile(filepath.Join(dir, entries[0].Name())); !errors.Is(err, unix.ENOKEY) {
		t.Fatalf("reading a locked file = %v, want ENOKEY", err)
	}
	if _, err := os.ReadFile(filepath.Join(dir, "secret.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reading by plaintext name = %v, want not found", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "new"), nil, 0o600); !errors.Is(err, unix.ENOKEY) {
		t.Fatalf("creating a file in a locked directory = %v, want ENOKEY", err)
	}
	if again, err := fscrypt.AddKey(vol, key); err != nil || again != id {
		t.Fatalf("adding the key back = %s, %v", again, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "secret.txt")); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("read after unlocking again = %q, %v", got, err)
	}
}

func TestRemoveKey_FilesBusy(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	dir, id, _ := encryptedDir(t, vol, "data")
	path := filepath.Join(dir, "open.txt")
	if err := os.WriteFile(path, []byte("still open"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := removeKey(t, vol, id)
	if !r.FilesBusy || r.String() != "incomplete: files busy" {
		t.Fatalf("RemoveKey with a file open = %+v (%s), want files busy", r, r)
	}
	if st, _ := fscrypt.KeyStatus(vol, id); st != fscrypt.StatusIncompletelyRemoved {
		t.Fatalf("KeyStatus = %v, want incompletely removed", st)
	}
	buf := make([]byte, 64)
	if n, _ := f.ReadAt(buf, 0); string(buf[:n]) != "still open" {
		t.Fatalf("the open file reads %q after an incomplete removal, want its plaintext", buf[:n])
	}
	if err := os.WriteFile(filepath.Join(dir, "new"), nil, 0o600); !errors.Is(err, unix.ENOKEY) {
		t.Fatalf("creating a file after an incomplete removal = %v, want ENOKEY", err)
	}
	f.Close()
	if r := removeKey(t, vol, id); r.String() != "removed" {
		t.Fatalf("RemoveKey after closing = %s, want removed", r)
	}
	if st, _ := fscrypt.KeyStatus(vol, id); st != fscrypt.StatusAbsent {
		t.Fatalf("KeyStatus after closing = %v, want absent", st)
	}
}

// TestRemoveKey_FileClosedMomentsLaterCompletes holds a file open for an
// instant after the removal starts, as writeback or a closing process does:
// RemoveKey's retries see it go and report the key removed.
func TestRemoveKey_FileClosedMomentsLaterCompletes(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	dir, id, _ := encryptedDir(t, vol, "data")
	path := filepath.Join(dir, "brief.txt")
	if err := os.WriteFile(path, []byte("open for a moment"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	closed := time.AfterFunc(30*time.Millisecond, func() { f.Close() })
	defer closed.Stop()
	if r := removeKey(t, vol, id); !r.Complete() || r.Absent {
		t.Fatalf("RemoveKey with a file closed 30 ms later = %+v (%s), want removed", r, r)
	}
	if st, _ := fscrypt.KeyStatus(vol, id); st != fscrypt.StatusAbsent {
		t.Fatalf("KeyStatus = %v, want absent", st)
	}
}

// TestRemoveKey_RawImageHasNoPlaintext looks for a file's contents and name
// in the raw bytes of the volume: never on the encrypted one, always on a
// plain control volume (else the search itself would be broken).
func TestRemoveKey_RawImageHasNoPlaintext(t *testing.T) {
	enc := fscrypttest.New(t, fscrypttest.Options{SizeMiB: 32})
	plain := fscrypttest.New(t, fscrypttest.Options{SizeMiB: 32})
	contents, name := marker(t, "contents-"), marker(t, "name-")
	data := bytes.Repeat([]byte(contents+"\n"), 2048)
	dir, id, _ := encryptedDir(t, enc.Dir, "data")
	plainDir := filepath.Join(plain.Dir, "data")
	if err := os.Mkdir(plainDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, plainDir} {
		if err := os.WriteFile(filepath.Join(d, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if r := removeKey(t, enc.Dir, id); !r.Complete() {
		t.Fatalf("RemoveKey = %s", r)
	}
	fscrypttest.DropCaches(t)
	for _, c := range []struct {
		vol  *fscrypttest.Vol
		want bool
	}{{enc, false}, {plain, true}} {
		img, err := os.ReadFile(c.vol.Image)
		if err != nil {
			t.Fatal(err)
		}
		nc, nn := bytes.Count(img, []byte(contents)), bytes.Count(img, []byte(name))
		if (nc > 0) != c.want || (nn > 0) != c.want {
			t.Errorf("%s: contents found %d times, name %d times; want found = %v", c.vol.Image, nc, nn, c.want)
		}
	}
}
