package node

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/node/fscrypt"
	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
	"github.com/byokflow/byokflow/node/pgserver"
)

// tmpfsDir mounts a small tmpfs for t, unmounted when t ends.
func tmpfsDir(t *testing.T) string {
	t.Helper()
	fscrypttest.SkipUnlessRoot(t)
	dir, err := os.MkdirTemp("", "node-tmpfs-")
	require.NoError(t, err)
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput()
	require.NoError(t, err, "mount tmpfs: %s", out)
	t.Cleanup(func() {
		out, err := exec.Command("umount", dir).CombinedOutput()
		require.NoError(t, err, "umount tmpfs: %s", out)
		require.NoError(t, os.Remove(dir))
	})
	return dir
}

func TestNew_RefusesStorageWithoutFscryptSupport(t *testing.T) {
	for name, c := range map[string]struct {
		dir  func(t *testing.T) string
		says []string
	}{
		"ext4 without the encrypt feature": {
			dir:  func(t *testing.T) string { return testVolume(t, fscrypttest.Options{NoEncrypt: true, SizeMiB: 32}).Dir },
			says: []string{"lacks the encrypt feature", "tune2fs -O encrypt", "mkfs.ext4 -O encrypt"},
		},
		"tmpfs": {
			dir:  tmpfsDir,
			says: []string{"tmpfs filesystem does not support fscrypt", "mkfs.ext4 -O encrypt"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			storage, dataDir := c.dir(t), t.TempDir()
			before, err := os.ReadDir(storage)
			require.NoError(t, err)

			a, err := New(Config{Host: testHost, DataDir: dataDir, StorageDir: storage, Wrapper: nullWrapper{}})
			require.Nil(t, a)
			require.ErrorContains(t, err, "start node agent on host host-a: storage "+storage+" cannot hold encrypted nodes")
			for _, s := range c.says {
				require.ErrorContains(t, err, s)
			}
			after, err := os.ReadDir(storage)
			require.NoError(t, err)
			require.Equal(t, before, after, "the probe is gone")
			left, err := os.ReadDir(dataDir)
			require.NoError(t, err)
			require.Empty(t, left, "no agent key, no slot store")
		})
	}
}

func TestInstallKey_StorageErrorLeavesNoSlotKeyOrDirectory(t *testing.T) {
	for name, c := range map[string]struct {
		prepare func(h *harness, data string)
		errType string
		says    string
	}{
		"data directory not encrypted": {
			prepare: func(h *harness, data string) { require.NoError(h.t, os.MkdirAll(data, 0o711)) },
			errType: contract.ErrTypeStorageUnsupported, says: "is not encrypted",
		},
		"data directory under another key": {
			prepare: func(h *harness, data string) {
				require.NoError(h.t, os.MkdirAll(data, 0o711))
				key := make([]byte, fscrypt.KeySize)
				_, _ = rand.Read(key)
				id, err := fscrypt.AddKey(h.vol.Dir, key)
				require.NoError(h.t, err)
				require.NoError(h.t, fscrypt.SetPolicy(data, id))
				_, err = fscrypt.RemoveKey(h.vol.Dir, id)
				require.NoError(h.t, err)
			},
			errType: contract.ErrTypeKeySlotInvalid, says: "belongs to another node",
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.tap = &dekTap{}
			h.restart()
			n := nodeRef{InstanceID: testInstance, NodeID: "orders-db-1"}
			c.prepare(h, h.agent.dirsOf(n).data)

			_, err := h.install(n.NodeID)
			requireType(t, err, c.errType, c.says)
			require.Len(t, h.tap.wrapped(), 1, "the DEK was wrapped, then the storage failed")
			h.requireNothingOf(n.NodeID)
		})
	}
}

// newMarker returns a value found nowhere on any disk before this test.
func newMarker(t testing.TB) []byte {
	b := make([]byte, 16)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return []byte("byokflow-at-rest-" + hex.EncodeToString(b))
}

// writeMarker stores marker in many rows and checkpoints, so that it is in
// the table's file and the WAL on disk, then drops the page cache.
func writeMarker(t testing.TB, conn *pgx.Conn, marker []byte) {
	t.Helper()
	for _, sql := range []string{"CREATE TABLE secrets (v text)",
		"INSERT INTO secrets SELECT $1 || ' ' || g FROM generate_series(1, 200) g", "CHECKPOINT"} {
		var args []any
		if bytes.Contains([]byte(sql), []byte("$1")) {
			args = append(args, string(marker))
		}
		_, err := conn.Exec(t.Context(), sql, args...)
		require.NoError(t, err, sql)
	}
	fscrypttest.DropCaches(t) // syncs first
}

// countIn counts marker in the file at path, read in chunks.
func countIn(t testing.TB, path string, marker []byte) int {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	buf, carry, n := make([]byte, 4<<20), 0, 0
	for {
		r, err := f.Read(buf[carry:])
		data := buf[:carry+r]
		n += bytes.Count(data, marker)
		carry = min(len(marker)-1, len(data))
		copy(buf, data[len(data)-carry:])
		if err == io.EOF {
			return n
		}
		require.NoError(t, err)
	}
}

// TestStartPrimary_RowsOnTheVolumeAreCiphertext looks for rows a node's
// server wrote in the raw image of its volume, and, as a control that the
// search finds what is there, in the image of the same server set up on a
// volume without encryption (the agent refuses one, so pgserver runs it).
func TestStartPrimary_RowsOnTheVolumeAreCiphertext(t *testing.T) {
	t.Parallel()
	marker := newMarker(t)
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	conn := h.conn(p, p.database)
	writeMarker(t, conn, marker)
	var rows int
	require.NoError(t, conn.QueryRow(h.ctx, "SELECT count(*) FROM secrets WHERE v LIKE $1 || '%'", string(marker)).Scan(&rows))
	require.Equal(t, 200, rows, "the server reads them back")
	require.Zero(t, countIn(t, h.vol.Image, marker), "plaintext rows on the encrypted volume")

	plain := testVolume(t, fscrypttest.Options{SizeMiB: serverVolumeMiB, NoEncrypt: true})
	port, err := pgserver.FreePort()
	require.NoError(t, err)
	srv, err := pgserver.New(pgserver.Config{DataDir: filepath.Join(plain.Dir, "data", "pgdata"),
		SocketDir: filepath.Join(plain.Dir, "run"), Port: port})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(plain.Dir, "data"), 0o711))
	t.Cleanup(func() { require.NoError(t, srv.Stop(h.ctx)) }) // before the volume's unmount
	require.NoError(t, srv.Init(h.ctx))
	require.NoError(t, srv.Start(h.ctx))
	control, err := srv.Connect(h.ctx, "postgres")
	require.NoError(t, err)
	defer control.Close(h.ctx)
	writeMarker(t, control, marker)
	require.GreaterOrEqual(t, countIn(t, plain.Image, marker), 1, "the control finds the rows in plaintext")
}
