package node

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

// corruptions change a backup file: flip one byte, or cut it short.
var corruptions = map[string]func([]byte) []byte{
	"byte changed in header":     func(b []byte) []byte { b[30] ^= 0x01; return b },
	"byte changed in the middle": func(b []byte) []byte { b[len(b)/2] ^= 0x80; return b },
	"byte changed near the end":  func(b []byte) []byte { b[len(b)-40] ^= 0x01; return b },
	"cut short by two thirds":    func(b []byte) []byte { return b[:len(b)/3] },
	"cut at a chunk boundary": func(b []byte) []byte {
		const sealed = 64<<10 + 16
		return b[:headerLen(b)+sealed*((len(b)-headerLen(b)-1)/sealed)]
	},
	"cut by the last byte":        func(b []byte) []byte { return b[:len(b)-1] },
	"byte appended after the end": func(b []byte) []byte { return append(b, 0) },
}

// headerLen is the length of the stream header of backup file b.
func headerLen(b []byte) int {
	n := 8 + 1 + 4
	for range 4 {
		n += 2 + (int(b[n])<<8 | int(b[n+1]))
	}
	return n + 32 + 7 + 32
}

// TestRestoreDatabase_CorruptFileRestoresNothing corrupts backups of one
// source database on one primary node.
func TestRestoreDatabase_CorruptFileRestoresNothing(t *testing.T) {
	t.Parallel()
	h := newDataHarness(t)
	src := h.scratchDB()
	h.fillFixture(h.db(src), 2000)
	t.Run("fails its checksum before decrypting", func(t *testing.T) {
		for name, change := range corruptions {
			t.Run(name, func(t *testing.T) { corruptFailsChecksumBeforeDecrypting(h.on(t), src, change) })
		}
	})
	t.Run("under a matching checksum rolls back", func(t *testing.T) {
		for name, change := range corruptions {
			t.Run(name, func(t *testing.T) { corruptUnderMatchingChecksumRollsBack(h.on(t), src, change) })
		}
	})
}

func corruptFailsChecksumBeforeDecrypting(h *harness, src string, change func([]byte) []byte) {
	t := h.t
	b := h.mustBackup(src)
	b = h.rewriteBackup(b, change, true)
	dst := h.scratchDB()
	unwraps := h.stats(emulator.OpUnwrap)

	_, err := h.restoreDB(restoreInput(b, h.src, dst))
	requireType(t, err, contract.ErrTypeBackupCorrupt, "backup "+testBackupID+" is corrupt: its SHA-256 "+
		"does not match the catalog", "nothing was restored")
	require.Equal(t, unwraps, h.stats(emulator.OpUnwrap), "no DEK unwrapped for a file that fails its checksum")
	require.Empty(t, h.userTables(dst))
}

func corruptUnderMatchingChecksumRollsBack(h *harness, src string, change func([]byte) []byte) {
	t := h.t
	b := h.mustBackup(src)
	b = h.rewriteBackup(b, change, false) // the file changed before its checksum was taken
	dst := h.scratchDB()

	_, err := h.restoreDB(restoreInput(b, h.src, dst))
	requireType(t, err, contract.ErrTypeBackupCorrupt, "restore backup "+testBackupID,
		"failed authentication while decrypting", "nothing was restored")
	require.Empty(t, h.userTables(dst), "nothing half-loaded is visible")

	b = h.mustBackup(src) // a good backup restores into the same database afterwards
	_, err = h.restoreDB(restoreInput(b, h.src, dst))
	require.NoError(t, err)
	require.Equal(t, h.fingerprint(h.db(src)), h.fingerprint(h.db(dst)))
}
