package e2e

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
)

// historyText is the whole history of workflow id in its wire form, in
// which payloads appear as the bytes the workers sent.
func (s *Stack) historyText(t *testing.T, id string) string {
	c, err := client.Dial(client.Options{HostPort: shared.hostPort, Namespace: "default"})
	require.NoError(t, err)
	defer c.Close()
	var b strings.Builder
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		raw, err := proto.Marshal(e)
		require.NoError(t, err)
		b.Write(raw)
	}
	return b.String()
}

// catalogText is every row of every table of the stack's catalog, as text.
func (s *Stack) catalogText(t *testing.T) string {
	ctx := context.Background()
	var url string
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "BYOK_DATABASE_URL="); ok {
			url = v
		}
	}
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)
		FROM information_schema.tables WHERE table_type = 'BASE TABLE'
		AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	var b strings.Builder
	for _, table := range tables {
		var text *string
		require.NoError(t, conn.QueryRow(ctx, "SELECT string_agg(t::text, E'\\n') FROM "+table+" t").Scan(&text))
		if text != nil {
			b.WriteString(*text)
		}
	}
	return b.String()
}

// logsText is every log file of the stack's programs.
func (s *Stack) logsText(t *testing.T) string {
	logs, err := filepath.Glob(filepath.Join(s.dataDir, "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	var b strings.Builder
	for _, l := range logs {
		data, err := os.ReadFile(l)
		require.NoError(t, err)
		b.Write(data)
	}
	return b.String()
}

// requireAbsent fails when secret appears in haystack raw, in hex or in
// base64 (standard and URL alphabets).
func requireAbsent(t *testing.T, haystack, secret, where string) {
	t.Helper()
	for _, form := range []string{secret, hex.EncodeToString([]byte(secret)),
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
		require.False(t, strings.Contains(haystack, form), "a secret reached %s", where)
	}
}

// TestSecrets_AdminPasswordReachesNoHistoryLogOrCatalog: the operator's
// admin password stays in the passfile: the provision's history carries
// its SCRAM verifier only, and no log line or catalog row holds it. The
// control checks that the search does find what is there (the verifier's
// prefix in the history, the instance in the logs and the catalog).
func TestSecrets_AdminPasswordReachesNoHistoryLogOrCatalog(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("secret-root")
	name := UniqueName("secret")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
	r := s.Starter("sql", "--instance", name, "-c", "select 1")
	require.Equal(t, 0, r.Code, r.Stderr)
	password := readPassword(t, s, name)

	history, logs, cat := s.historyText(t, "provision-"+name), s.logsText(t), s.catalogText(t)
	require.True(t, strings.Contains(history, "SCRAM-SHA-256$4096:"), "control: the history carries the verifier")
	require.True(t, strings.Contains(logs, name), "control: the logs name the instance")
	require.True(t, strings.Contains(cat, name), "control: the catalog holds the instance")
	requireAbsent(t, history, password, "the provision's history")
	requireAbsent(t, logs, password, "a log")
	requireAbsent(t, cat, password, "the catalog")
}
