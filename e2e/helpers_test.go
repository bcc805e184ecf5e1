package e2e

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nodeRow and statusDoc mirror the starter's JSON documents.
type nodeRow struct {
	Node       string `json:"node"`
	Host       string `json:"host"`
	State      string `json:"state"`
	KeyVersion string `json:"keyVersion"`
	CheckValue string `json:"checkValue"`
	ReportedAt string `json:"reportedAt"`
}

type statusDoc struct {
	Instance   string    `json:"instance"`
	RootKeyID  string    `json:"rootKeyId"`
	State      string    `json:"state"`
	KeyVersion string    `json:"keyVersion"`
	Rotated    bool      `json:"rotated"`
	Nodes      []nodeRow `json:"nodes"`
}

// mustJSON runs the starter, requires exit 0 and decodes its JSON output.
func (s *Stack) mustJSON(v any, args ...string) {
	s.t.Helper()
	r := s.Starter(args...)
	require.Equal(s.t, 0, r.Code, "starter %v failed:\n%s", args, r.Stderr)
	require.NoError(s.t, json.Unmarshal([]byte(r.Stdout), v), "starter %v printed:\n%s", args, r.Stdout)
}

// CreateRootKey creates a root key through the CLI and returns its id.
func (s *Stack) CreateRootKey(name string) string {
	var key struct{ ID, Name string }
	s.mustJSON(&key, "keys", "create", "--name", name, "--json")
	require.NotEmpty(s.t, key.ID)
	return key.ID
}

// Status returns the Nodes page of instance.
func (s *Stack) Status(instance string) statusDoc {
	var doc statusDoc
	s.mustJSON(&doc, "status", "--instance", instance, "--json")
	return doc
}

// requireAllAt asserts every node is active under version, on distinct hosts.
func requireAllAt(t *testing.T, nodes []nodeRow, n int, version string) {
	t.Helper()
	require.Len(t, nodes, n)
	hosts := map[string]bool{}
	for _, node := range nodes {
		require.Equal(t, "active", node.State, "node %s", node.Node)
		require.Equal(t, version, node.KeyVersion, "node %s", node.Node)
		require.NotEmpty(t, node.CheckValue, "node %s", node.Node)
		hosts[node.Host] = true
	}
	require.Len(t, hosts, min(n, 3), "nodes spread across hosts")
}

// eventually polls cond every 100 ms for up to 60 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// slotFiles lists the files under the node agents' data directories whose
// path names instance.
func (s *Stack) slotFiles(instance string) []string {
	var found []string
	_ = filepath.WalkDir(s.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(path, instance) && !strings.HasSuffix(path, ".log") {
			found = append(found, path)
		}
		return nil
	})
	return found
}
