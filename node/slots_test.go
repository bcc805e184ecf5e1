package node

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sampleSlot(nodeID string) Slot {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	return Slot{InstanceID: "orders-db", NodeID: nodeID, RootKeyID: "root-key-1",
		KeyVersionID: "version-1", WrappedDEK: []byte("opaque-wrapped-dek-ciphertext"),
		AAD:        []string{"byokflow-instance:orders-db", "byokflow-node:" + nodeID},
		CheckValue: "0123456789abcdef", CreatedAt: now, UpdatedAt: now}
}

func openSlots(t *testing.T, dataDir string) *Slots {
	t.Helper()
	s, err := OpenSlots(dataDir)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func slotPath(dataDir, instanceID, nodeID string) string {
	return filepath.Join(dataDir, slotsDir, instanceID, nodeID+slotExt)
}

func TestSlots_SaveThenLoadRoundTrips(t *testing.T) {
	dir := t.TempDir()
	s := openSlots(t, dir)
	want := sampleSlot("orders-db-1")
	require.NoError(t, s.Save(want))
	got, err := s.Load("orders-db", "orders-db-1")
	require.NoError(t, err)
	want.Format = SlotFormat
	require.Equal(t, want, got)
	info, err := os.Stat(slotPath(dir, "orders-db", "orders-db-1"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestSlots_FileIsSealed(t *testing.T) {
	dir := t.TempDir()
	s := openSlots(t, dir)
	slot := sampleSlot("orders-db-1")
	require.NoError(t, s.Save(slot))
	raw, err := os.ReadFile(slotPath(dir, "orders-db", "orders-db-1"))
	require.NoError(t, err)
	for _, clear := range [][]byte{slot.WrappedDEK, []byte(slot.RootKeyID), []byte(slot.CheckValue)} {
		require.False(t, bytes.Contains(raw, clear), "slot file shows %q in the clear", clear)
	}
}

func TestSlots_LoadMissingWrapsErrSlotNotFound(t *testing.T) {
	s := openSlots(t, t.TempDir())
	_, err := s.Load("orders-db", "orders-db-1")
	require.ErrorIs(t, err, ErrSlotNotFound)
	require.ErrorContains(t, err, "node orders-db-1 of instance orders-db")
}

func TestSlots_SaveReplacesAndLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	s := openSlots(t, dir)
	first := sampleSlot("orders-db-1")
	require.NoError(t, s.Save(first))
	second := first
	second.KeyVersionID, second.WrappedDEK = "version-2", []byte("rewrapped")
	require.NoError(t, s.Save(second))
	got, err := s.Load("orders-db", "orders-db-1")
	require.NoError(t, err)
	require.Equal(t, "version-2", got.KeyVersionID)
	require.Equal(t, []byte("rewrapped"), got.WrappedDEK)
	entries, err := os.ReadDir(filepath.Join(dir, slotsDir, "orders-db"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the slot itself remains")
}

func TestSlots_LeftoverTempFileIsIgnored(t *testing.T) {
	dir := t.TempDir()
	s := openSlots(t, dir)
	require.NoError(t, s.Save(sampleSlot("orders-db-1")))
	// A crash between writing the temporary file and renaming it.
	leftover := filepath.Join(dir, slotsDir, "orders-db", ".tmp-12345")
	require.NoError(t, os.WriteFile(leftover, []byte("half a slot"), 0o600))
	refs, err := s.List()
	require.NoError(t, err)
	require.Equal(t, []SlotRef{{InstanceID: "orders-db", NodeID: "orders-db-1"}}, refs)
	_, err = s.Load("orders-db", "orders-db-1")
	require.NoError(t, err)
}

func TestSlots_CorruptSlotFailsClearly(t *testing.T) {
	cases := map[string]func([]byte) []byte{
		"flipped bit": func(b []byte) []byte { b[len(b)-5] ^= 1; return b },
		"truncated":   func(b []byte) []byte { return b[:len(b)/2] },
		"empty":       func([]byte) []byte { return nil },
		"garbage":     func([]byte) []byte { return []byte("not a slot at all, not at all") },
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openSlots(t, dir)
			require.NoError(t, s.Save(sampleSlot("orders-db-1")))
			path := slotPath(dir, "orders-db", "orders-db-1")
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, corrupt(raw), 0o600))
			_, err = s.Load("orders-db", "orders-db-1")
			require.ErrorIs(t, err, ErrSlotCorrupt)
			require.ErrorContains(t, err, path)
			require.ErrorContains(t, err, "restore the file from backup")
		})
	}
}

func TestSlots_SlotMovedToAnotherNodeIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := openSlots(t, dir)
	require.NoError(t, s.Save(sampleSlot("orders-db-1")))
	raw, err := os.ReadFile(slotPath(dir, "orders-db", "orders-db-1"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(slotPath(dir, "orders-db", "orders-db-2"), raw, 0o600))
	_, err = s.Load("orders-db", "orders-db-2")
	require.ErrorIs(t, err, ErrSlotCorrupt)
}

func TestSlots_SlotOfAnotherAgentKeyIsCorrupt(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a, b := openSlots(t, dirA), openSlots(t, dirB)
	require.NoError(t, a.Save(sampleSlot("orders-db-1")))
	raw, err := os.ReadFile(slotPath(dirA, "orders-db", "orders-db-1"))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dirB, slotsDir, "orders-db"), 0o700))
	require.NoError(t, os.WriteFile(slotPath(dirB, "orders-db", "orders-db-1"), raw, 0o600))
	_, err = b.Load("orders-db", "orders-db-1")
	require.ErrorIs(t, err, ErrSlotCorrupt)
}

func TestSlots_RemoveOverwritesBeforeUnlinking(t *testing.T) {
	dir := t.TempDir()
	s := openSlots(t, dir)
	require.NoError(t, s.Save(sampleSlot("orders-db-1")))
	path := slotPath(dir, "orders-db", "orders-db-1")
	// A second name for the same inode shows what Remove left in it.
	witness := filepath.Join(dir, "witness")
	require.NoError(t, os.Link(path, witness))
	size := fileSize(t, witness)
	require.NoError(t, s.Remove("orders-db", "orders-db-1"))
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)
	left, err := os.ReadFile(witness)
	require.NoError(t, err)
	require.Equal(t, make([]byte, size), left, "slot bytes were not zeroed")
	_, err = os.Stat(filepath.Join(dir, slotsDir, "orders-db"))
	require.ErrorIs(t, err, os.ErrNotExist, "empty instance directory is removed")
}

func fileSize(t *testing.T, path string) int {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.NotZero(t, info.Size())
	return int(info.Size())
}

func TestSlots_RemoveMissingIsSuccess(t *testing.T) {
	s := openSlots(t, t.TempDir())
	require.NoError(t, s.Remove("orders-db", "orders-db-1"))
	require.NoError(t, s.Save(sampleSlot("orders-db-1")))
	require.NoError(t, s.Remove("orders-db", "orders-db-1"))
	require.NoError(t, s.Remove("orders-db", "orders-db-1"))
}

func TestSlots_ListFindsEverySlot(t *testing.T) {
	s := openSlots(t, t.TempDir())
	for _, n := range []string{"orders-db-1", "orders-db-2"} {
		require.NoError(t, s.Save(sampleSlot(n)))
	}
	other := sampleSlot("users-db-1")
	other.InstanceID = "users-db"
	require.NoError(t, s.Save(other))
	refs, err := s.List()
	require.NoError(t, err)
	require.ElementsMatch(t, []SlotRef{{"orders-db", "orders-db-1"}, {"orders-db", "orders-db-2"},
		{"users-db", "users-db-1"}}, refs)
}

func TestSlots_InvalidIDsAreRefused(t *testing.T) {
	s := openSlots(t, t.TempDir())
	for _, id := range []string{"", "..", "../etc", "Orders", "a/b", "-x"} {
		_, err := s.Load(id, "orders-db-1")
		require.ErrorContains(t, err, "lower-case letters", id)
		_, err = s.Load("orders-db", id)
		require.ErrorContains(t, err, "lower-case letters", id)
		require.Error(t, s.Remove("orders-db", id), id)
	}
}

func TestSlots_SaveRefusesIncompleteSlot(t *testing.T) {
	s := openSlots(t, t.TempDir())
	slot := sampleSlot("orders-db-1")
	slot.WrappedDEK = nil
	require.ErrorContains(t, s.Save(slot), "wrapped DEK")
	_, err := s.Load("orders-db", "orders-db-1")
	require.ErrorIs(t, err, ErrSlotNotFound)
}
