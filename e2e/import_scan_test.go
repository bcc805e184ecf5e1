package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// The scans of this file look for key material everywhere byokflow and the
// emulator write: workflow histories (payloads decoded), process logs,
// catalog rows, the emulator's log and its data directory.

// syncBuffer is a goroutine-safe log sink for the in-process emulator.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// materialForms are the encodings in which material could leak.
func materialForms(m []byte) map[string][]byte {
	h := hex.EncodeToString(m)
	return map[string][]byte{
		"raw": m, "hex": []byte(h), "upper-case hex": []byte(strings.ToUpper(h)),
		"base64": []byte(base64.StdEncoding.EncodeToString(m)), "unpadded base64": []byte(base64.RawStdEncoding.EncodeToString(m)),
		"base64url": []byte(base64.URLEncoding.EncodeToString(m)), "unpadded base64url": []byte(base64.RawURLEncoding.EncodeToString(m)),
	}
}

// requireNoMaterial fails if data holds any form of any material.
func requireNoMaterial(t *testing.T, where string, data []byte, materials ...[]byte) {
	t.Helper()
	for i, m := range materials {
		for form, b := range materialForms(m) {
			require.False(t, bytes.Contains(data, b), "material %d (%s) found in %s", i+1, form, where)
		}
	}
}

// materialHistories dumps every event of every workflow of the namespace as JSON,
// followed by the base64-decoded form of each string in it, so payload
// data (JSON under base64) is searched as the plaintext it carries.
func (s *Stack) materialHistories(t *testing.T) []byte {
	ctx := context.Background()
	c, err := client.Dial(client.Options{HostPort: shared.hostPort, Namespace: "default"})
	require.NoError(t, err)
	defer c.Close()
	var out bytes.Buffer
	var token []byte
	for {
		page, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", NextPageToken: token})
		require.NoError(t, err)
		for _, e := range page.Executions {
			it := c.GetWorkflowHistory(ctx, e.Execution.WorkflowId, e.Execution.RunId, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				require.NoError(t, err)
				b, err := json.Marshal(ev)
				require.NoError(t, err)
				out.Write(b)
				appendDecoded(&out, b)
			}
		}
		if token = page.NextPageToken; len(token) == 0 {
			return out.Bytes()
		}
	}
}

// appendDecoded appends the base64 decoding of every string of doc.
func appendDecoded(out *bytes.Buffer, doc []byte) {
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if b, err := base64.StdEncoding.DecodeString(x); err == nil {
				out.WriteByte('\n')
				out.Write(b)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

// materialCatalogRows dumps every row of every table of the catalog as text.
func (s *Stack) materialCatalogRows(t *testing.T) []byte {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.envValue("BYOK_DATABASE_URL"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Contains(t, tables, "instances")
	var out bytes.Buffer
	for _, table := range tables {
		rows, _ := conn.Query(ctx, "SELECT t::text FROM "+table+" t")
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err, "read table %s", table)
		out.WriteString(strings.Join(texts, "\n"))
	}
	return out.Bytes()
}

// processLogs concatenates the logs of the worker and the node agents.
func (s *Stack) processLogs(t *testing.T) []byte {
	paths, err := filepath.Glob(filepath.Join(s.dataDir, "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var out bytes.Buffer
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		out.Write(b)
	}
	return out.Bytes()
}

// emulatorFiles concatenates the files of the emulator's data directory.
func (s *Stack) emulatorFiles(t *testing.T) []byte {
	var out bytes.Buffer
	err := filepath.WalkDir(s.Emu.DataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out.Write(b)
		return err
	})
	require.NoError(t, err)
	return out.Bytes()
}

// envValue is the value the stack's processes see: the last one set.
func (s *Stack) envValue(name string) string {
	for i := len(s.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(s.env[i], name+"="); ok {
			return v
		}
	}
	s.t.Fatalf("%s is not in the stack's environment", name)
	return ""
}
