package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRun_UsageErrorsExitTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage: starter COMMAND"},
		{"unknown command", []string{"explode"}, "usage: starter COMMAND"},
		{"missing required flag", []string{"provision", "--instance", "orders"}, "--root-key is required"},
		{"unknown flag", []string{"status", "--instance", "orders", "--colour"}, "flag provided but not defined"},
		{"stray argument", []string{"rotate", "--instance", "orders", "now"}, `unexpected argument "now"`},
		{"material with rewrap-only", []string{"rotate", "--instance", "orders", "--rewrap-only", "--material-file", "f"}, "give one of them"},
		{"import without material", []string{"keys", "import", "--name", "byok-root"}, "--material-file is required"},
		{"show without key", []string{"keys", "show"}, "--root-key is required"},
		{"bad instance name", []string{"status", "--instance", "Bad_Name"}, "instance"},
		{"too many nodes", []string{"provision", "--instance", "orders", "--root-key", "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "--nodes", "10"}, "node"},
		{"bad backup id", []string{"restore", "--backup", "../etc", "--instance", "copy", "--root-key", "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"}, "backup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			require.Equal(t, 2, code, stderr)
			require.Contains(t, stderr, tc.want)
		})
	}
}

func TestRun_MissingSettingsExitOne(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "")
	t.Setenv("BYOK_DATABASE_URL", "")
	code, _, stderr := runCLI("rotate", "--instance", "orders")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "TEMPORAL_ADDRESS is not set")
	code, _, stderr = runCLI("status", "--instance", "orders")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "BYOK_DATABASE_URL is not set")
}

func TestKPMarks_SayTheNodesKeepServing(t *testing.T) {
	m := kpMarks{UnreachableSince: "2030-01-02T03:04:05Z"}
	require.Equal(t, "key protect: no answer for root key k1 since 2030-01-02T03:04:05Z; the nodes keep serving from "+
		"their keys in memory and nothing is suspended until Key Protect answers", m.line("k1"))
	m.RaisedAt = "2030-01-02T04:04:05Z"
	require.Contains(t, m.line("k1"), "past the grace window since 2030-01-02T04:04:05Z: check Key Protect and IAM")
}
