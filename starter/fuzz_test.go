package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// fuzzSecret is an API key in the fuzzed CLI's environment: no output may
// show it.
const fuzzSecret = "fuzz-service-apikey-5e1d7c9b3a"

// FuzzParseArgs runs arbitrary command lines (arguments separated by NUL,
// which no real argument holds) through the CLI's dispatch, argument
// parsing and input checks, with an environment that names no Temporal
// server, no catalog and no IBM credential, and Key Protect and IAM at a
// closed port: a command line that parses stops at the first connection
// it needs (exit 1) without dialing anything. Nothing may panic; the exit
// code is 0 (help), 1 (error: ...) or 2 (usage error, or the usage for an
// unknown command); no secret of the environment is printed; and no admin
// password file is left behind. make reliability runs it for
// BYOK_FUZZTIME; go test runs the seeds.
func FuzzParseArgs(f *testing.F) {
	creds := f.TempDir()
	for k, v := range map[string]string{
		"TEMPORAL_ADDRESS": "", "TEMPORAL_API_KEY": "", "TEMPORAL_CONFIG_FILE": "", "BYOK_DATABASE_URL": "",
		"IBMCLOUD_API_KEY": "", "BYOK_SERVICE_API_KEY": fuzzSecret, "BYOK_CODEC_API_KEY": fuzzSecret,
		"BYOK_KP_URL": "http://127.0.0.1:1", "BYOK_IAM_URL": "http://127.0.0.1:1", "BYOK_UI_URL": "",
		"BYOK_KP_INSTANCE_ID": "6f3c4b1e-2d5a-4e8f-9b7c-0a1d2e3f4b5c", "BYOK_CREDENTIALS_DIR": creds,
		"HOME": f.TempDir(), "XDG_CONFIG_HOME": f.TempDir(),
	} {
		f.Setenv(k, v)
	}
	for _, c := range commands {
		f.Add(strings.Join(strings.Fields(c.name), "\x00"))
		f.Add(strings.Join(append(strings.Fields(c.name), "-h"), "\x00"))
	}
	for _, seed := range [][]string{
		{"provision", "--instance", "orders", "--root-key", "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "--nodes", "3"},
		{"provision", "--instance", "../x", "--root-key", "k1"}, {"provision", "--instance", "orders", "--root-key", "k1", "--nodes", "1000"},
		{"provision", "--instance", "orders", "--root-key", "k1", "--node-deadline", "-5s"},
		{"provision", "--instance", "orders", "--root-key", "k1", "--node-deadline", "1000000h"},
		{"provision", "--instance=orders", "--root-key=k1", "--create-authorization=maybe"},
		{"rotate", "--instance", "orders", "--rewrap-only", "--material-file", "f"}, {"rotate", "--instance", "orders", "now"},
		{"restore", "--backup", "../etc", "--instance", "copy", "--root-key", "k1"}, {"shred", "--instance", "x;drop table"},
		{"sql", "--instance", "orders", "-c", "select 1; drop table t"}, {"status", "--instance"}, {"status", "--colour"},
		{"keys", "create", "--name", strings.Repeat("k", 300)}, {"schedule", "rotate", "--instance", "orders", "--every", "-1h"},
		{"schedule", "backup", "--instance", "orders", "--every", "24h", "--keep", "0.5s"}, {"--", "provision"}, {"-h"},
		{"help", "me"}, {"keys"}, {"explode", "--now"}, {""}, {"provision", "--instance", "ördérs"}, {"approve", "--workflow", "\x01"},
	} {
		f.Add(strings.Join(seed, "\x00"))
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		if line == "" {
			args = nil
		}
		for _, a := range args {
			if strings.Contains(a, "/dev") || strings.Contains(a, "/proc") || strings.Contains(a, "/sys") {
				t.Skip("a file the CLI might read and block on (a material file)")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := run(ctx, args, &stdout, &stderr)
		out, errOut := stdout.String(), stderr.String()
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("%q took %s: something was dialed or waited on", args, took)
		}
		switch code {
		case 0:
			if !strings.Contains(out, "usage: starter") {
				t.Fatalf("%q exit 0 without printing help: settings are missing, nothing can succeed:\n%s%s", args, out, errOut)
			}
		case 1:
			if !strings.HasPrefix(errOut, "error: ") || strings.Contains(errOut, "usage error:") {
				t.Fatalf("%q exit 1 must print one error line, not a usage error:\n%s", args, errOut)
			}
		case 2:
			if !strings.HasPrefix(errOut, "usage error: ") && !strings.Contains(errOut, "usage: starter COMMAND") {
				t.Fatalf("%q exit 2 without a usage error:\n%s", args, errOut)
			}
		default:
			t.Fatalf("%q exit code %d: only 0, 1 and 2 exist", args, code)
		}
		if !isCommand(args) && !(len(args) > 0 && isHelp(args[len(args)-1])) && code != 2 {
			t.Fatalf("%q is no command but exit %d", args, code)
		}
		if strings.Contains(out+errOut, fuzzSecret) {
			t.Fatalf("%q printed an API key of the environment", args)
		}
		if left, _ := os.ReadDir(creds); len(left) > 0 {
			t.Fatalf("%q left %s in the credentials directory", args, left[0].Name())
		}
	})
}
