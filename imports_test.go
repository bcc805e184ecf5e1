package byokflow_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// deps lists the packages of this module that pkgs depend on, their tests
// included.
func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	args := append([]string{"list", "-test", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)
	out, err := exec.Command("go", args...).CombinedOutput()
	require.NoError(t, err, string(out))
	var ours []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/byokflow/byokflow/") {
			ours = append(ours, p)
		}
	}
	return ours
}

// TestImports_NodesNeverReachTheCatalog: node agents hold no catalog
// connection, so package node (and its tests) must not even import it.
func TestImports_NodesNeverReachTheCatalog(t *testing.T) {
	for _, p := range deps(t, "./node/...") {
		require.NotContains(t, p, "/catalog", "node depends on %s", p)
		require.NotContains(t, p, "/activities", "node depends on %s", p)
		require.NotContains(t, p, "/workflows", "node depends on %s", p)
	}
}

// TestImports_EncryptionDependsOnNothingOfOurs: the encryption library
// stands alone; only its adapters import a KMS client.
func TestImports_EncryptionDependsOnNothingOfOurs(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./encryption").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/byokflow/byokflow/") {
			require.Equal(t, "github.com/byokflow/byokflow/encryption", p)
		}
	}
}
