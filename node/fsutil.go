package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// tempPattern names the temporary files of writeFileAtomic. They start with a
// dot and do not end in ".slot", so a leftover one is never listed as a slot.
const tempPattern = ".tmp-*"

// writeFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, never a mix: it writes a temporary file in the
// same directory (mode 0600), fsyncs it, renames it over path and fsyncs the
// directory so the rename itself is durable.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// createFileExclusive is writeFileAtomic that fails with fs.ErrExist instead
// of replacing an existing path (a hard link is created only if the name is
// free), so two processes creating the same file cannot both win.
func createFileExclusive(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeTemp writes data to a new fsynced temporary file in dir and returns
// its path.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, tempPattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// shredFile overwrites path with zeros, fsyncs it, removes it and fsyncs its
// directory. A missing file is success. On copy-on-write or flash storage
// the overwrite is best effort; what makes the key unrecoverable is that its
// wrapped form is useless without the root key.
func shredFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = zeroFile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// zeroFile overwrites f's whole length with zeros and fsyncs it.
func zeroFile(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(make([]byte, info.Size()), 0); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir fsyncs a directory, making renames and removals in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
