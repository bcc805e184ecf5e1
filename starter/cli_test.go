package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun_HelpPrintsUsageAndExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"keys", "-h"}, {"keys", "--help"}} {
		code, stdout, stderr := runCLI(args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		require.Contains(t, stdout, "usage: starter COMMAND")
		require.Contains(t, stdout, "example:\n  starter provision")
		for _, c := range commands {
			require.Contains(t, stdout, "  "+c.name+" ")
		}
	}
}

func TestRun_UnknownCommandExitsTwoWithUsage(t *testing.T) {
	code, stdout, stderr := runCLI("explode", "--now")
	require.Equal(t, 2, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, `unknown command "explode --now"`)
	require.Contains(t, stderr, "usage: starter COMMAND")
}

// Every command: -h and --help print its usage with flags and an example
// and exit 0; an unknown flag exits 2 with the usage; its example is a
// command line that parses (without settings it fails later, exit 1).
func TestCommands_HelpExampleAndUnknownFlag(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "")
	t.Setenv("BYOK_DATABASE_URL", "")
	t.Setenv("IBMCLOUD_API_KEY", "")
	t.Setenv("BYOK_KP_INSTANCE_ID", "6f3c4b1e-2d5a-4e8f-9b7c-0a1d2e3f4b5c") // an id, no secret
	t.Setenv("BYOK_CREDENTIALS_DIR", t.TempDir())
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			name := strings.Fields(c.name)
			for _, help := range []string{"-h", "--help"} {
				code, stdout, stderr := runCLI(append(name, help)...)
				require.Equal(t, 0, code, stderr)
				require.Contains(t, stdout, "usage: starter "+c.name+" [flags]\n  "+c.summary)
				require.Contains(t, stdout, "flags:\n")
				require.Contains(t, stdout, "example:\n  "+c.example)
			}
			require.Contains(t, c.example, "starter "+c.name)

			code, stdout, stderr := runCLI(append(name, "--no-such-flag")...)
			require.Equal(t, 2, code)
			require.Empty(t, stdout)
			require.Contains(t, stderr, "flag provided but not defined: -no-such-flag")
			require.Contains(t, stderr, "usage: starter "+c.name)

			code, _, stderr = runCLI(exampleArgs(t, c)...)
			require.NotEqual(t, 2, code, "the example is a valid command line: %s", stderr)
		})
	}
}

// exampleArgs splits the starter command line of an example (quotes as
// the shell reads them, for the examples' simple quoting).
func exampleArgs(t *testing.T, c command) []string {
	t.Helper()
	line := c.example[strings.Index(c.example, "starter ")+len("starter "):]
	line = strings.TrimSuffix(line, `)"`)
	var args []string
	for len(line) > 0 {
		line = strings.TrimLeft(line, " ")
		if strings.HasPrefix(line, "'") {
			end := strings.Index(line[1:], "'")
			require.GreaterOrEqual(t, end, 0, c.example)
			args, line = append(args, line[1:end+1]), line[end+2:]
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		args, line = append(args, word), rest
	}
	return args
}

func TestRun_UsageErrorsSayWhatToDo(t *testing.T) {
	code, _, stderr := runCLI("status", "--instance", "Bad_Name")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "run `starter status -h` for its flags and an example")

	code, _, stderr = runCLI("status", "--instance")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "flag needs an argument")
	require.Contains(t, stderr, "example:\n  starter status --instance orders")
}
