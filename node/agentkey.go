package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/byokflow/byokflow/encryption"
)

// agentKeyFile is the name, in the data directory, of the node-local key
// that seals the key slots. It is not a DEK and protects no data by itself:
// the slots hold DEKs wrapped by the root key, and the agent key adds
// integrity and keeps their metadata private. Back it up with the slots:
// without it they cannot be read.
const agentKeyFile = "agent.key"

// loadAgentKey returns the slot-sealing key of dataDir, creating it (mode
// 0600) on first start. A key file readable by group or others, or of the
// wrong length, is refused.
func loadAgentKey(dataDir string) (*encryption.DataKey, error) {
	path := filepath.Join(dataDir, agentKeyFile)
	key, err := readAgentKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	fresh, err := encryption.NewDataKey()
	if err != nil {
		return nil, fmt.Errorf("create agent key %s: %w", path, err)
	}
	err = fresh.WithBytes(func(b []byte) error { return createFileExclusive(path, b) })
	if errors.Is(err, fs.ErrExist) {
		// Another agent on the same directory created it first: use theirs.
		fresh.Destroy()
		return readAgentKey(path)
	}
	if err != nil {
		fresh.Destroy()
		return nil, fmt.Errorf("create agent key %s: %w: check the data directory is writable", path, err)
	}
	return fresh, nil
}

// readAgentKey reads an existing agent key; a missing file wraps
// fs.ErrNotExist.
func readAgentKey(path string) (*encryption.DataKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read agent key %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read agent key %s: mode %v lets others read it: run chmod 600 %s",
			path, info.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read agent key %s: %w", path, err)
	}
	defer clear(b)
	key, err := encryption.NewDataKeyFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("read agent key %s: file has %d bytes, want %d: restore it from "+
			"backup; without it the key slots of this directory cannot be read",
			path, len(b), encryption.DataKeySize)
	}
	return key, nil
}
