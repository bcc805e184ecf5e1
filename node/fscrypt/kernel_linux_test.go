package fscrypt_test

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/byokflow/byokflow/node/fscrypt"
	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
	"golang.org/x/sys/unix"
)

func newKey(t testing.TB) []byte {
	key := make([]byte, fscrypt.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

// encryptedDir adds a fresh key to vol and makes vol/name encrypted by it.
func encryptedDir(t testing.TB, vol, name string) (string, fscrypt.Identifier, []byte) {
	t.Helper()
	key := newKey(t)
	id, err := fscrypt.AddKey(vol, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(vol, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := fscrypt.SetPolicy(dir, id); err != nil {
		t.Fatal(err)
	}
	return dir, id, key
}

func TestAddKey_SameKeySameIdentifier(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	key := newKey(t)
	first, err := fscrypt.AddKey(vol, key)
	if err != nil {
		t.Fatal(err)
	}
	again, err := fscrypt.AddKey(vol, key)
	if err != nil {
		t.Fatalf("adding a key already present: %v", err)
	}
	computed, _ := fscrypt.ComputeIdentifier(key)
	if again != first || computed != first {
		t.Fatalf("identifiers differ: first %s, again %s, computed %s", first, again, computed)
	}
	other, err := fscrypt.AddKey(vol, newKey(t))
	if err != nil || other == first {
		t.Fatalf("another key: identifier %s (first %s), %v", other, first, err)
	}
	if st, err := fscrypt.KeyStatus(vol, first); err != nil || st != fscrypt.StatusPresent {
		t.Fatalf("KeyStatus = %v, %v; want present", st, err)
	}
}

func TestAddKey_KernelMatchesFrozenVector(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	key := make([]byte, fscrypt.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	id, err := fscrypt.AddKey(vol, key)
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != frozenIdentifier {
		t.Fatalf("kernel identifier of key 00..3f = %s, want %s", id, frozenIdentifier)
	}
}

func TestAddKey_WrongSizeRefused(t *testing.T) {
	if _, err := fscrypt.AddKey(os.TempDir(), make([]byte, 32)); err == nil {
		t.Fatal("a 32-byte key was accepted")
	}
}

func TestSetPolicy_Idempotent(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	dir, id, _ := encryptedDir(t, vol, "data")
	if err := os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("17\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fscrypt.SetPolicy(dir, id); err != nil {
		t.Fatalf("setting the same policy again on a directory in use: %v", err)
	}
	p, err := fscrypt.GetPolicy(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := fscrypt.Policy{Version: 2, Contents: fscrypt.ModeAES256XTS, Filenames: fscrypt.ModeAES256CTS,
		Flags: fscrypt.FlagsPad32, Key: id}
	if p != want {
		t.Fatalf("GetPolicy = %v, want %v", p, want)
	}
	if p.Protection() != fscrypt.Protection {
		t.Fatalf("Protection() = %q, want %q", p.Protection(), fscrypt.Protection)
	}
}

func TestSetPolicy_OtherPolicyRefused(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	dir, _, _ := encryptedDir(t, vol, "data")
	other, err := fscrypt.AddKey(vol, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	err = fscrypt.SetPolicy(dir, other)
	if !errors.Is(err, fscrypt.ErrOtherPolicy) {
		t.Fatalf("SetPolicy with another key = %v, want ErrOtherPolicy", err)
	}
	t.Log(err)
}

func TestSetPolicy_NotEmptyRefused(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	id, err := fscrypt.AddKey(vol, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(vol, "data")
	if err := os.MkdirAll(filepath.Join(dir, "already"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := fscrypt.SetPolicy(dir, id); !errors.Is(err, unix.ENOTEMPTY) {
		t.Fatalf("SetPolicy on a non-empty dir = %v, want ENOTEMPTY", err)
	}
}

func TestSetPolicy_KeyNotAddedRefused(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	id, _ := fscrypt.ComputeIdentifier(newKey(t))
	dir := filepath.Join(vol, "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := fscrypt.SetPolicy(dir, id); !errors.Is(err, unix.ENOKEY) {
		t.Fatalf("SetPolicy under a key never added = %v, want ENOKEY", err)
	}
}

func TestGetPolicy_PlainDirNotEncrypted(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	if _, err := fscrypt.GetPolicy(vol); !errors.Is(err, fscrypt.ErrNotEncrypted) {
		t.Fatalf("GetPolicy on a plain dir = %v, want ErrNotEncrypted", err)
	}
}

func TestRemoveKey_AbsentKey(t *testing.T) {
	vol := fscrypttest.Volume(t, 32)
	id, _ := fscrypt.ComputeIdentifier(newKey(t))
	r, err := fscrypt.RemoveKey(vol, id)
	if err != nil || !r.Absent || r.String() != "already absent" {
		t.Fatalf("RemoveKey of a key never added = %+v (%s), %v", r, r, err)
	}
	if st, err := fscrypt.KeyStatus(vol, id); err != nil || st != fscrypt.StatusAbsent {
		t.Fatalf("KeyStatus = %v, %v; want absent", st, err)
	}
}
