package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/testenv"
)

// badCase is one bad input: what it runs, the exit code (2 usage error,
// 1 refused operation), what stderr must say (the typed error, the ids,
// what to do), and whether it may leave a failed, undone instance record.
type badCase struct {
	name     string
	subset   bool // one of the few cases make test runs
	run      func(t *testing.T, b *badWorld) Result
	code     int
	want     []string
	failedOK bool
	source   bool // needs the instance with a backup (made before the footprint)
}

// cli runs the starter with args.
func cli(args ...string) func(*testing.T, *badWorld) Result {
	return func(_ *testing.T, b *badWorld) Result { return b.s.Starter(args...) }
}

// provisionCLI runs starter provision of one node with extra flags after
// the defaults (a later flag wins).
func provisionCLI(instance, key string, extra ...string) func(*testing.T, *badWorld) Result {
	return func(_ *testing.T, b *badWorld) Result {
		if key == "" {
			key = b.good
		}
		return b.s.Starter(append([]string{"provision", "--instance", instance, "--root-key", key, "--nodes", "1"}, extra...)...)
	}
}

// withKey runs provision of a fresh name under the key pick chooses.
func withKey(pick func(*badWorld) string, extra ...string) func(*testing.T, *badWorld) Result {
	return func(t *testing.T, b *badWorld) Result {
		return provisionCLI(UniqueName("bad-key"), pick(b), extra...)(t, b)
	}
}

// keysCreate runs starter keys create with extra environment.
func keysCreate(env func(*testing.T, *badWorld) []string, name string) func(*testing.T, *badWorld) Result {
	return func(t *testing.T, b *badWorld) Result {
		return b.s.StarterEnv(env(t, b), "keys", "create", "--name", name, "--json")
	}
}

const badName = "3-40 lower-case letters"

var badCases = []badCase{
	// Malformed and hostile instance ids, refused before anything starts.
	{name: "instance id empty", run: provisionCLI("", ""), code: 2, want: []string{"--instance is required"}},
	{name: "instance id too long", run: provisionCLI("a"+strings.Repeat("b", 40), ""), code: 2, want: []string{badName}},
	{name: "instance id upper case", run: provisionCLI("Orders-DB", ""), code: 2, want: []string{badName}},
	{name: "instance id ../x", subset: true, run: provisionCLI("../x", ""), code: 2, want: []string{badName}},
	{name: "instance id x;drop table", run: provisionCLI("x;drop table instances", ""), code: 2, want: []string{badName}},
	{name: "instance id unicode", run: provisionCLI("ördérs-db", ""), code: 2, want: []string{badName}},
	{name: "instance id forged log line", run: provisionCLI("orders\nlevel=INFO msg=ok", ""), code: 2, want: []string{badName}},
	// Hostile key names and ids.
	{name: "root key id path", run: provisionCLI("bad-key-path", "../../keys"), code: 2, want: []string{"give the key's id"}},
	{name: "root key id reserved alias", run: provisionCLI("bad-key-alias", "rotate"), code: 2, want: []string{"give the key's id"}},
	{name: "root key id shell", run: provisionCLI("bad-key-shell", "$(rm -rf /)"), code: 2, want: []string{"give the key's id"}},
	{name: "key name empty", run: cli("keys", "create", "--name", ""), code: 2, want: []string{"--name is required"}},
	{name: "key name too long", run: cli("keys", "create", "--name", strings.Repeat("k", 91)), code: 1,
		want: []string{"[InvalidInput]", "correct the flags"}},
	// Keys of the wrong type, in the wrong state, in the wrong place.
	{name: "unknown root key", subset: true, run: withKey(func(*badWorld) string { return "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b" }),
		code: 1, want: []string{"[KeyNotFound]", "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"}},
	{name: "standard key", run: withKey(func(b *badWorld) string { return b.standard }), code: 1, want: []string{"[NotRootKey]", "root key"}},
	{name: "disabled key", run: withKey(func(b *badWorld) string { return b.disabled }), code: 1,
		want: []string{"[KeyNotActive]", "Suspended", "enable it"}},
	{name: "destroyed key", run: withKey(func(b *badWorld) string { return b.destroyed }), code: 1,
		want: []string{"[KeyNotActive]", "Destroyed", "restore it within 30 days"}},
	{name: "key in a foreign key protect instance", run: withKey(func(b *badWorld) string { return b.elsewhere }), code: 1,
		want: []string{"[KeyNotFound]", "another Key Protect instance"}},
	{name: "wrong key protect instance id", run: withKey(func(b *badWorld) string { return b.good },
		"--kp-instance", "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"), code: 1, want: []string{"[KPInstanceNotFound]", "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"}},
	{name: "key protect instance id not a uuid", run: withKey(func(b *badWorld) string { return b.good }, "--kp-instance", "my-kp"),
		code: 2, want: []string{"GUID"}},
	{name: "keys show unknown key", run: cli("keys", "show", "--root-key", "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9"), code: 1,
		want: []string{"[KeyNotFound]", "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9"}},
	// Credentials: wrong, revoked (deleted by a rotation of the API key), expired token.
	{name: "wrong api key", run: keysCreate(func(_ *testing.T, b *badWorld) []string { return []string{"IBMCLOUD_API_KEY=" + b.wrongAPIKey} },
		"bad-wrong-key"), code: 1, want: []string{"[AccessDenied]", "IBMCLOUD_API_KEY"}},
	{name: "revoked api key", run: keysCreate(func(_ *testing.T, b *badWorld) []string { return []string{"IBMCLOUD_API_KEY=" + b.revokedAPIKey} },
		"bad-revoked-key"), code: 1, want: []string{"[AccessDenied]", "IBMCLOUD_API_KEY"}},
	{name: "expired token", run: keysCreate(func(t *testing.T, b *badWorld) []string { return []string{"BYOK_IAM_URL=" + b.expiredTokenIAM(t)} },
		"bad-expired-token"), code: 1, want: []string{"[AccessDenied]", "expired"}},
	// Absurd sizes and durations, unknown and missing flags.
	{name: "nodes 0", run: provisionCLI("bad-nodes-zero", "", "--nodes", "0"), code: 2, want: []string{"choose 1 to 9 nodes"}},
	{name: "nodes -1", run: provisionCLI("bad-nodes-neg", "", "--nodes", "-1"), code: 2, want: []string{"choose 1 to 9 nodes"}},
	{name: "nodes 1000", run: provisionCLI("bad-nodes-many", "", "--nodes", "1000"), code: 2, want: []string{"choose 1 to 9 nodes"}},
	{name: "node deadline -5s", run: provisionCLI("bad-deadline-neg", "", "--node-deadline", "-5s"), code: 2, want: []string{"give 1m to 720h"}},
	{name: "node deadline 1000000h", run: provisionCLI("bad-deadline-huge", "", "--node-deadline", "1000000h"), code: 2, want: []string{"give 1m to 720h"}},
	{name: "node deadline not a duration", run: provisionCLI("bad-deadline-word", "", "--node-deadline", "forever"), code: 2,
		want: []string{"invalid value", "example:"}},
	{name: "unknown flag", subset: true, run: cli("provision", "--instance", "bad-flag", "--root-key", "k1", "--colour", "red"), code: 2,
		want: []string{"flag provided but not defined: -colour", "example:"}},
	{name: "missing root key flag", run: cli("provision", "--instance", "bad-missing"), code: 2, want: []string{"--root-key is required"}},
	{name: "stray argument", run: cli("rotate", "--instance", "bad-stray", "now"), code: 2, want: []string{`unexpected argument "now"`}},
	// Operations on what does not exist, or exists already.
	{name: "rotate nonexistent instance", subset: true, run: cli("rotate", "--instance", "bad-nobody"), code: 1,
		want: []string{"[InstanceNotFound]", "bad-nobody"}},
	{name: "shred nonexistent instance", run: cli("shred", "--instance", "bad-nobody"), code: 1, want: []string{"[InstanceNotFound]", "bad-nobody"}},
	{name: "backup nonexistent instance", run: cli("backup", "--instance", "bad-nobody"), code: 1, want: []string{"[InstanceNotFound]", "bad-nobody"}},
	{name: "sql on nonexistent instance", run: cli("sql", "--instance", "bad-nobody", "-c", "select 1"), code: 1,
		want: []string{"[InstanceNotFound]", "bad-nobody"}},
	{name: "provision existing name with another key", source: true, run: func(t *testing.T, b *badWorld) Result {
		return provisionCLI(b.source, b.other)(t, b)
	}, code: 1, want: []string{"[InstanceExists]"}},
	// Backups: missing, malformed id, damaged.
	{name: "restore missing backup flag", run: cli("restore", "--instance", "bad-restore", "--root-key", "k1"), code: 2,
		want: []string{"--backup is required"}},
	{name: "restore backup id path", run: cli("restore", "--backup", "../../etc/passwd", "--instance", "bad-restore", "--root-key", "k1"),
		code: 2, want: []string{"give the id of a backup"}},
	{name: "restore nonexistent backup", run: func(_ *testing.T, b *badWorld) Result {
		return b.s.Starter("restore", "--backup", "bad-nobody-20300101T000000", "--instance", UniqueName("bad-restore"), "--root-key", b.good, "--nodes", "1")
	}, code: 1, want: []string{"[BackupNotFound]", "bad-nobody-20300101T000000"}},
	{name: "restore tampered backup", run: restoreDamaged(func(c []byte) []byte { c[len(c)/2] ^= 0x01; return c }),
		code: 1, want: []string{"[BackupCorrupt]"}, failedOK: true, source: true},
	{name: "restore truncated backup", run: restoreDamaged(func(c []byte) []byte { return c[:len(c)*2/3] }),
		code: 1, want: []string{"[BackupCorrupt]"}, failedOK: true, source: true},
	// Workflow inputs no CLI check stands before (a client of its own).
	{name: "workflow input instance id with NUL", subset: true, run: provisionWF(func(in *contract.ProvisionInput) { in.InstanceID = "orders\x00db" }),
		code: 1, want: []string{"[InvalidInput]", badName}},
	{name: "workflow input instance id ../x", run: provisionWF(func(in *contract.ProvisionInput) { in.InstanceID = "../x" }),
		code: 1, want: []string{"[InvalidInput]", badName}},
	{name: "workflow input plaintext admin password", run: provisionWF(func(in *contract.ProvisionInput) { in.AdminVerifier = plaintextPassword }),
		code: 1, want: []string{"[InvalidInput]", "never the password"}},
	{name: "workflow input node deadline 1000000h", run: provisionWF(func(in *contract.ProvisionInput) {
		in.NodeDeadline = contract.Duration(1000000 * time.Hour)
	}), code: 1, want: []string{"[InvalidInput]", "give 1m to 720h"}},
	{name: "workflow input rotate hostile id", run: func(t *testing.T, b *badWorld) Result {
		return b.workflow(t, contract.WorkflowRotateRootKey, contract.RotateInput{InstanceID: "x';drop table instances;--"})
	}, code: 1, want: []string{"[InvalidInput]", badName}},
	{name: "workflow input restore backup id path", run: func(t *testing.T, b *badWorld) Result {
		return b.workflow(t, contract.WorkflowRestoreFromBackup, contract.RestoreInput{BackupID: "../../etc/shadow",
			InstanceID: UniqueName("bad-wf"), RootKeyID: b.good, Nodes: 1, AdminVerifier: validVerifier})
	}, code: 1, want: []string{"[InvalidInput]", "give the id of a backup"}},
}

// plaintextPassword is what a careless client might send as the admin
// verifier: it must be refused and never echoed.
const plaintextPassword = "hunter2-bad-input-plaintext"

func provisionWF(bad func(*contract.ProvisionInput)) func(*testing.T, *badWorld) Result {
	return func(t *testing.T, b *badWorld) Result {
		return b.workflow(t, contract.WorkflowProvisionEncryptedInstance, b.provisionInput(bad))
	}
}

// restoreDamaged damages the backup file, restores it into a new instance
// and puts the file back.
func restoreDamaged(damage func([]byte) []byte) func(*testing.T, *badWorld) Result {
	return func(t *testing.T, b *badWorld) Result {
		id := b.backup(t)
		defer b.damageBackup(t, damage)()
		return b.s.Starter("restore", "--backup", id, "--instance", UniqueName("bad-restore"), "--root-key", b.good, "--nodes", "1")
	}
}

// todoRE finds advice: every message says what to do next.
var todoRE = regexp.MustCompile(`(?i)\b(give|use|choose|check|run|set|correct|restore|enable|grant|create|leave)\b|example:`)

func TestReliability_BadInput(t *testing.T) {
	started := time.Now()
	cli, _ := testenv.TemporalCLI(t)
	require.NoError(t, startShared(cli)) // the package's build and dev server, once for every test
	t.Logf("programs built and dev server up in %s", time.Since(started).Round(time.Second))
	started = time.Now()
	b := newBadWorld(t)
	cat := b.s.catalogOf(t)
	t.Logf("stack and keys ready in %s", time.Since(started).Round(time.Second))
	started = time.Now()
	ran := 0
	for _, tc := range badCases {
		if !relFull() && !tc.subset {
			continue
		}
		ran++
		relCase(t, "bad-input", tc.name, func(t *testing.T, row *relRow) {
			if tc.source {
				b.backup(t)
			}
			before := b.s.footprint(t, cat)
			t0 := time.Now()
			r := tc.run(t, b)
			row.took(time.Since(t0))
			out := r.Stdout + r.Stderr
			require.Equal(t, tc.code, r.Code, "exit code; stdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
			prefix := map[int]string{1: "error: ", 2: "usage error: "}[tc.code]
			require.True(t, strings.HasPrefix(r.Stderr, prefix) || strings.Contains(r.Stderr, "\n"+prefix),
				"stderr says %q:\n%s", prefix, r.Stderr)
			if tc.code == 1 {
				require.Regexp(t, `\[[A-Z][A-Za-z]+\]`, r.Stderr, "a typed error")
			}
			for _, w := range tc.want {
				require.Contains(t, r.Stderr, w)
			}
			require.Regexp(t, todoRE, r.Stderr, "the message says what to do")
			for _, secret := range append(b.secrets, plaintextPassword) {
				require.NotContains(t, out, secret, "a secret echoed")
			}
			failed := b.s.requireNothingNew(t, cat, before, b.s.footprint(t, cat), tc.failedOK)
			row.note("exit %d %s", r.Code, typedName(r.Stderr, tc.code))
			if len(failed) > 0 {
				row.note("left only a failed, undone record of %s", strings.Join(failed, ", "))
			}
		})
	}
	t.Logf("%d bad-input cases in %s", ran, time.Since(started).Round(time.Second))
	started = time.Now()
	b.s.requireInvariants(t, relExpect{Secrets: true})
	t.Logf("invariants checked in %s", time.Since(started).Round(time.Second))
}

// typedName is the "[Type]" of a refused operation's message, or "usage".
func typedName(stderr string, code int) string {
	if code == 2 {
		return "usage"
	}
	return regexp.MustCompile(`\[[A-Z][A-Za-z]+\]`).FindString(stderr)
}
