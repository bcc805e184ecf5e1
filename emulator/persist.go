package emulator

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files of the data directory.
const (
	stateFile     = "state.json" // the store; key material only sealed
	masterKeyFile = "master.key" // 32 bytes sealing key material at rest
	tokenKeyFile  = "token.key"  // 32 bytes signing the IAM tokens
)

// writeFileAtomic replaces dir/name with data: temp file, fsync, rename,
// fsync of the directory, so a crash leaves either the old or the new file.
func writeFileAtomic(dir, name string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := writeAndSync(tmp, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return syncDir(dir)
}

func writeAndSync(f *os.File, data []byte, perm fs.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// loadOrCreateSecret returns the 32-byte secret in dir/name, creating it
// (mode 0600) on first use. With no dir the secret is random and lives in
// memory only.
func loadOrCreateSecret(dir, name string) ([]byte, error) {
	if dir == "" {
		return randomBytes(32), nil
	}
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("read %s: want 32 bytes, found %d", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b = randomBytes(32)
	if err := writeFileAtomic(dir, name, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// readState returns the stored state, or a fresh one when there is none.
func readState(dir string) (*store, error) {
	if dir == "" {
		return newStore(), nil
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return newStore(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return decodeStore(data)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return b
}
