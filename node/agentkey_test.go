package node

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAgentKey_CreatedOnceWithMode0600(t *testing.T) {
	dir := t.TempDir()
	first := openSlots(t, dir)
	require.NoError(t, first.Save(sampleSlot("orders-db-1")))
	info, err := os.Stat(filepath.Join(dir, agentKeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	require.Equal(t, int64(32), info.Size())

	second := openSlots(t, dir) // a restart reuses the key
	_, err = second.Load("orders-db", "orders-db-1")
	require.NoError(t, err)
}

func TestAgentKey_ReadableByOthersIsRefused(t *testing.T) {
	dir := t.TempDir()
	openSlots(t, dir)
	path := filepath.Join(dir, agentKeyFile)
	require.NoError(t, os.Chmod(path, 0o644))
	_, err := OpenSlots(dir)
	require.ErrorContains(t, err, "chmod 600")
}

func TestAgentKey_WrongLengthIsRefused(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, agentKeyFile), []byte("short"), 0o600))
	_, err := OpenSlots(dir)
	require.ErrorContains(t, err, "file has 5 bytes, want 32")
}
