package node

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestBackupRestore_RoundTripKeepsDataSchemaAndSequences(t *testing.T) {
	h := newDataHarness(t)
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(src, 10000)
	var b contract.BackupDatabaseResult
	timed(t, "backup", func() { b = h.mustBackup(src) })
	require.Greater(t, b.Bytes, int64(4<<20), "a few MB of rows")

	var res contract.RestoreDatabaseResult
	var err error
	timed(t, "restore", func() { res, err = h.restoreDB(restoreInput(b, dst)) })
	require.NoError(t, err)
	require.Equal(t, contract.RestoreDatabaseResult{Bytes: b.Bytes, Tables: b.Tables, Rows: b.Rows}, res)
	require.Equal(t, 7, b.Tables, "customers, orders, order_lines, Closed Accounts, 2 partitions, grants")
	require.Equal(t, int64(10000+20000+60000+100+10000+10), b.Rows)
	require.Equal(t, h.fingerprint(src), h.fingerprint(dst))

	// Sequences continue where the source's are, and constraints hold.
	for _, db := range []string{src, dst} {
		conn := h.db(db)
		var orderID, customerID int64
		require.NoError(t, conn.QueryRow(h.ctx, "INSERT INTO orders (customer_id, total) VALUES (1, 1) RETURNING id").Scan(&orderID))
		require.Equal(t, int64(20006), orderID, db)
		require.NoError(t, conn.QueryRow(h.ctx, "INSERT INTO customers (name) VALUES ('new') RETURNING id").Scan(&customerID))
		require.Equal(t, int64(10001), customerID, db)
		_, err := conn.Exec(h.ctx, "INSERT INTO order_lines VALUES (-1, 1, 'x', 1)")
		requirePgCode(t, err, "23503") // foreign key
		_, err = conn.Exec(h.ctx, "INSERT INTO customers (name) VALUES ('new')")
		requirePgCode(t, err, "23505") // unique index
		_, err = conn.Exec(h.ctx, "INSERT INTO orders (customer_id, total) VALUES (1, -1)")
		requirePgCode(t, err, "23514") // check constraint
	}
}

func requirePgCode(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want PostgreSQL error %s, got %v", code, err)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
}

func TestRestoreDatabase_RetryAfterCommitReturnsEarlierResult(t *testing.T) {
	h := newDataHarness(t)
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(src, 200)
	b := h.mustBackup(src)
	first, err := h.restoreDB(restoreInput(b, dst))
	require.NoError(t, err)
	require.NoError(t, os.Remove(h.backupFile(b)), "a retry must not need the file again")

	again, err := h.restoreDB(restoreInput(b, dst))
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, h.fingerprint(src), h.fingerprint(dst), "loaded once")
}

func TestRestoreDatabase_DatabaseWithOtherTablesIsRefused(t *testing.T) {
	h := newDataHarness(t)
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(src, 50)
	b := h.mustBackup(src)
	_, err := h.db(dst).Exec(h.ctx, "CREATE TABLE squatter (id int)")
	require.NoError(t, err)

	_, err = h.restoreDB(restoreInput(b, dst))
	requireType(t, err, contract.ErrTypeInvalidInput, "database "+dst+" is not empty", "new instance")
	require.Equal(t, []string{"public.squatter"}, h.userTables(dst))
}

func TestRestoreDatabase_MissingFileIsBackupNotFound(t *testing.T) {
	h := newDataHarness(t)
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(src, 50)
	b := h.mustBackup(src)
	require.NoError(t, os.Remove(h.backupFile(b)))

	_, err := h.restoreDB(restoreInput(b, dst))
	requireType(t, err, contract.ErrTypeBackupNotFound, "backup "+testBackupID+" is not in the backup store")
	require.Empty(t, h.userTables(dst))
}

func TestRestoreDatabase_LocationOutsideStoreIsRefused(t *testing.T) {
	h := newDataHarness(t)
	b := contract.BackupDatabaseResult{BackupID: testBackupID, Location: "../elsewhere.byok",
		SHA256:    strings.Repeat("0", 64),
		RootKeyID: h.rootKey, KeyVersionID: "v", WrappedDEK: []byte("x")}
	_, err := h.restoreDB(restoreInput(b, "byok_test_never_created"))
	requireType(t, err, contract.ErrTypeInvalidInput, "not a path inside the backup store")
}

func TestOpenSource_CopiesInBinaryUnlessATypeLacksBinaryIO(t *testing.T) {
	h := newDataHarness(t)
	src := h.scratchDB()
	h.fillFixture(src, 10)
	s, err := h.agent.data.openSource(h.ctx, src)
	require.NoError(t, err)
	defer s.close()
	formats := map[string]string{}
	for _, tb := range s.tables {
		formats[tb.Schema+"."+tb.Name] = tb.Format
	}
	require.Equal(t, map[string]string{"archive.Closed Accounts": "binary", "public.customers": "binary",
		"public.events_2024": "binary", "public.events_2025": "binary", "public.grants": "text",
		"public.order_lines": "binary", "public.orders": "binary"}, formats)
}
