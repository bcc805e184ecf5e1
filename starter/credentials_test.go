package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A name that is no instance name never makes a path: nothing is written
// outside the credentials directory, whatever check before it let it by.
func TestCredentialsPath_RefusesNamesThatAreNoInstanceName(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BYOK_CREDENTIALS_DIR", filepath.Join(dir, "credentials"))
	for _, name := range []string{"../x", "../../etc/cron.d/x", "/tmp/x", "a/b", "", "x\x00y"} {
		t.Run(name, func(t *testing.T) {
			_, err := credentialsPath(name)
			require.ErrorContains(t, err, "find the credentials of instance")
			_, made, err := ensureCredentials(name)
			require.Error(t, err)
			require.False(t, made)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing written")
	path, err := credentialsPath("orders-db")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "credentials", "orders-db.pgpass"), path)
}
