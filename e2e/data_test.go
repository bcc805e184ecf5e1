package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/byokflow/byokflow/contract"
	"github.com/stretchr/testify/require"
)

// sampleData makes tables of several types, a few MB in all: text, numeric,
// bytea, timestamps, NULLs, arrays, jsonb, a sequence, a composite primary
// key, a secondary index and a foreign key.
const sampleData = `
create table items (id bigserial primary key, name text not null, price numeric(12,4),
  blob bytea, created timestamptz, note text, tags text[], meta jsonb);
insert into items (name, price, blob, created, note, tags, meta)
  select 'item-' || g, g * 1.0001, decode(repeat(md5(g::text), 8), 'hex'),
         timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute',
         case when g % 5 = 0 then null else 'note ' || g end,
         array['t' || (g % 3), 't' || (g % 7)], jsonb_build_object('g', g, 'odd', g % 2 = 1)
  from generate_series(1, 30000) g;
create table orders (customer int, seq int, item_id bigint references items (id),
  at timestamp, amount double precision, primary key (customer, seq));
create index orders_at on orders (at);
insert into orders select g % 100, g, g, timestamp '2026-02-01' + g * interval '1 second', g / 3.0
  from generate_series(1, 20000) g;`

var sampleTables = []string{"items", "orders"}

// checksums returns a content checksum per table of instance.
func (s *Stack) checksums(t *testing.T, instance string) map[string]string {
	out := map[string]string{}
	for _, table := range sampleTables {
		var rows []map[string]*string
		s.mustJSON(&rows, "sql", "--instance", instance, "--json", "-c",
			"select count(*) as n, md5(string_agg(t::text, ',' order by t::text)) as sum from "+table+" t")
		require.Len(t, rows, 1)
		out[table] = *rows[0]["n"] + "/" + *rows[0]["sum"]
	}
	return out
}

type backupDoc struct {
	BackupID   string `json:"backupId"`
	Bytes      int64  `json:"bytes"`
	SHA256     string `json:"sha256"`
	RootKeyID  string `json:"rootKeyId"`
	KeyVersion string `json:"keyVersion"`
	State      string `json:"state"`
	// FileDeletedAt is set once a pruned backup's file is deleted.
	FileDeletedAt string `json:"fileDeletedAt"`
}

// dataStack starts a stack with the worker and node agents a, b, c, and the
// step-2 authorization in place.
func dataStack(t *testing.T) *Stack {
	s := NewStack(t)
	s.StartWorker()
	for _, h := range []string{"a", "b", "c"} {
		s.StartNode(h)
	}
	s.Emu.AuthorizeService(t)
	return s
}

// provisionWithData provisions an instance under key and loads the sample.
func (s *Stack) provisionWithData(t *testing.T, prefix, key string) string {
	name := UniqueName(prefix)
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--json")
	r := s.Starter("sql", "--instance", name, "-c", sampleData)
	require.Equal(t, 0, r.Code, r.Stderr)
	return name
}

func TestBackupRotateRestoreShred_TheCustomersStory(t *testing.T) {
	s := dataStack(t)
	key1, key2 := s.CreateRootKey("story-root"), s.CreateRootKey("story-restore-root")
	orig := s.provisionWithData(t, "story", key1)
	want := s.checksums(t, orig)

	var backup backupDoc
	s.mustJSON(&backup, "backup", "--instance", orig, "--json")
	require.Greater(t, backup.Bytes, int64(1<<20))
	require.Len(t, backup.SHA256, 64)
	requireNoPlaintext(t, s.backupFile(backup.BackupID), "item-29999")

	var rot statusDoc
	s.mustJSON(&rot, "rotate", "--instance", orig, "--json")
	var lineage []backupDoc
	s.mustJSON(&lineage, "backups", "--instance", orig, "--json")
	require.Len(t, lineage, 1)
	require.Equal(t, rot.KeyVersion, lineage[0].KeyVersion, "the backup's DEK was rewrapped to the new version")

	restored := UniqueName("story-copy")
	var res statusDoc
	s.mustJSON(&res, "restore", "--backup", backup.BackupID, "--instance", restored, "--root-key", key2, "--json")
	requireAllAt(t, res.Nodes, 3, key2)
	require.Equal(t, want, s.checksums(t, restored), "restored content equals the original")
	var next []map[string]*string
	s.mustJSON(&next, "sql", "--instance", restored, "--json", "-c", "insert into items (name) values ('new') returning id")
	require.Equal(t, "30001", *next[0]["id"], "the sequence continues")

	t.Run("shred with backups destroys everything and proves it", func(t *testing.T) {
		var cert map[string]any
		s.mustJSON(&cert, "shred", "--instance", orig, "--include-backups", "--json")
		for _, n := range s.Status(orig).Nodes {
			require.Equal(t, "destroyed", n.State, "node %s", n.Node)
		}
		key, err := s.Emu.OperatorClient(t).GetKeyMetadata(context.Background(), key1)
		require.NoError(t, err)
		require.Equal(t, 5, key.State, "root key destroyed in Key Protect")
		r := s.Starter("sql", "--instance", orig, "-c", "select 1")
		require.Equal(t, 1, r.Code, "the instance database is gone")
		r = s.Starter("shred-certificate", "--instance", orig)
		require.Equal(t, 0, r.Code, r.Stderr)
		require.Contains(t, r.Stdout, backup.BackupID)
		require.Contains(t, r.Stdout, "KEY_DELETED_ERR")
		var stored map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.Stdout), &stored))
		require.Equal(t, contract.ShredCertificateFormat, stored["format"], "the stored certificate has camelCase keys")
		require.Equal(t, orig, stored["instanceId"])
		require.Equal(t, cert["instanceCrn"], stored["instanceCrn"], "shred --json prints the stored certificate")
		require.NotEmpty(t, stored["instanceCrn"])

		again := UniqueName("story-again")
		r = s.Starter("restore", "--backup", backup.BackupID, "--instance", again, "--root-key", key2)
		require.Equal(t, 1, r.Code, r.Stderr)
		require.Contains(t, r.Stderr, "[BackupUnrecoverable]")
		s.requireNothingLeft(t, key2, again)
		require.Equal(t, want["orders"], s.checksums(t, restored)["orders"], "the restored copy lives on under its own key")
	})
}

func TestRestore_DisabledKeyIsRefusedUntilEnabled(t *testing.T) {
	s := dataStack(t)
	key1, key2 := s.CreateRootKey("disabled-src"), s.CreateRootKey("disabled-dst")
	orig := s.provisionWithData(t, "paused", key1)
	var backup backupDoc
	s.mustJSON(&backup, "backup", "--instance", orig, "--json")
	ops := s.Emu.OperatorClient(t)
	require.NoError(t, ops.DisableKey(context.Background(), key1))

	target := UniqueName("paused-copy")
	r := s.Starter("restore", "--backup", backup.BackupID, "--instance", target, "--root-key", key2)
	require.Equal(t, 1, r.Code, r.Stderr)
	require.Contains(t, r.Stderr, "re-enable")
	s.requireNothingLeft(t, key2, target)

	require.NoError(t, ops.EnableKey(context.Background(), key1))
	var res statusDoc
	s.mustJSON(&res, "restore", "--backup", backup.BackupID, "--instance", target, "--root-key", key2, "--json")
	require.Equal(t, s.checksums(t, orig), s.checksums(t, target))
}

func TestRestore_TamperedOrTruncatedBackupLoadsNothing(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("tamper-root")
	orig := s.provisionWithData(t, "tamper", key)
	var backup backupDoc
	s.mustJSON(&backup, "backup", "--instance", orig, "--json")
	path := s.backupFile(backup.BackupID)
	pristine, err := os.ReadFile(path)
	require.NoError(t, err)

	damage := map[string]func([]byte) []byte{
		"one byte changed": func(b []byte) []byte { c := append([]byte(nil), b...); c[len(c)/2] ^= 0x01; return c },
		"cut short":        func(b []byte) []byte { return b[:len(b)-1000] },
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, fn(pristine), 0o600))
			target := UniqueName("tampered")
			r := s.Starter("restore", "--backup", backup.BackupID, "--instance", target, "--root-key", key)
			require.Equal(t, 1, r.Code, r.Stderr)
			require.Contains(t, r.Stderr, "[BackupCorrupt]")
			r = s.Starter("sql", "--instance", target, "-c", "select count(*) from items")
			require.NotEqual(t, 0, r.Code, "nothing may be loaded:\n%s", r.Stdout)
		})
	}
}

func TestShred_RefusedWhileAnotherInstanceUsesTheKey(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("shared-root")
	first, second := UniqueName("shared-a"), UniqueName("shared-b")
	s.mustJSON(&statusDoc{}, "provision", "--instance", first, "--root-key", key, "--nodes", "2", "--json")
	s.mustJSON(&statusDoc{}, "provision", "--instance", second, "--root-key", key, "--nodes", "2", "--json")

	r := s.Starter("shred", "--instance", first)
	require.Equal(t, 1, r.Code, r.Stderr)
	require.Contains(t, r.Stderr, second)
	require.Contains(t, r.Stderr, "--keep-root-key")
	requireAllAt(t, s.Status(first).Nodes, 2, key)
	k, err := s.Emu.OperatorClient(t).GetKeyMetadata(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, 1, k.State, "nothing destroyed")
}

// The two-person rule is proven by Key Protect: the requester's own API
// key cannot approve, through the CLI or around it (setting the key for
// deletion itself and signalling the workflow), and the approver's can.
func TestShred_TwoPersonRule(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("approved-root")
	name := UniqueName("approved")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--json")
	dev := s.Emu.Dev

	done := s.StarterAsyncEnv([]string{"BYOK_OPERATOR=alice"}, "shred", "--instance", name, "--require-approval", "--json")
	workflow := "shred-" + name
	var self Result
	eventually(t, "the shred to wait for approval", func() bool {
		self = s.StarterEnv([]string{"BYOK_OPERATOR=someone-else"}, "approve", "--workflow", workflow)
		return strings.Contains(self.Stderr, "the requester's")
	})
	require.Equal(t, 1, self.Code, self.Stderr)
	require.Contains(t, self.Stderr, dev.OperatorIAMID)
	require.False(t, s.setForDeletion(t, key), "a refused approval changes nothing in Key Protect")

	// Around the CLI: the requester sets the key for deletion and signals.
	ctx := context.Background()
	require.NoError(t, s.Emu.OperatorClient(t).InitiateDualAuthDelete(ctx, key))
	c := s.codecClient(t)
	require.NoError(t, c.SignalWorkflow(ctx, workflow, "", contract.SignalApprove,
		contract.ApproveSignal{Principal: dev.ApproverIAMID}))
	eventually(t, "the workflow to check Key Protect's records", func() bool {
		return strings.Contains(s.progressNotes(t, workflow), "not proven")
	})
	select {
	case r := <-done:
		t.Fatalf("the shred proceeded without a second person: %+v", r)
	default:
	}
	requireAllAt(t, s.Status(name).Nodes, 1, key)

	r := s.StarterEnv([]string{"IBMCLOUD_API_KEY=" + dev.ApproverAPIKey}, "approve", "--workflow", workflow,
		"--comment", "change 42")
	require.Equal(t, 0, r.Code, r.Stderr)
	res := <-done
	require.Equal(t, 0, res.Code, res.Stderr)
	var cert contract.ShredCertificate
	require.NoError(t, json.Unmarshal([]byte(res.Stdout), &cert))
	require.NotNil(t, cert.Approval)
	require.Equal(t, dev.OperatorIAMID, cert.Approval.RequesterIAMID)
	require.Equal(t, dev.ApproverIAMID, cert.Approval.ApproverIAMID)
	require.Equal(t, "change 42", cert.Approval.Comment)
	require.Equal(t, dev.ApproverIAMID, cert.ApprovedBy)
	require.Contains(t, cert.Statement, "approval by "+dev.ApproverIAMID)
	require.Equal(t, contract.KPStateDestroyed, cert.Key.State)
}

// setForDeletion reports whether Key Protect shows the key set for
// deletion (dual authorization).
func (s *Stack) setForDeletion(t *testing.T, keyID string) bool {
	r := s.Emu.Do(t, http.MethodGet, "/api/v2/keys/"+keyID+"/metadata", s.Emu.Token(t, s.Emu.Dev.OperatorAPIKey), nil,
		map[string]string{"Bluemix-Instance": s.Emu.Dev.KPInstanceID})
	var env struct {
		Resources []struct {
			DualAuthDelete struct {
				KeySetForDeletion bool `json:"keySetForDeletion"`
			} `json:"dualAuthDelete"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &env), string(r.Body))
	return len(env.Resources) == 1 && env.Resources[0].DualAuthDelete.KeySetForDeletion
}

// progressNotes are the notes of a workflow's progress query, joined.
func (s *Stack) progressNotes(t *testing.T, workflowID string) string {
	v, err := s.codecClient(t).QueryWorkflow(context.Background(), workflowID, "", contract.QueryProgress)
	if err != nil {
		return ""
	}
	var p contract.Progress
	require.NoError(t, v.Get(&p))
	return strings.Join(p.Notes, "\n")
}

// A resource of another service registered with the root key makes the
// shred refuse, naming it, whatever the flags; nothing is touched.
func TestShred_RefusedWhileAnotherServiceIsRegisteredOnTheKey(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("shared-with-cos")
	name := UniqueName("cosshared")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
	cos := "crn:v1:bluemix:public:cloud-object-storage:global:a/" + s.Emu.Dev.AccountID + ":bucket:customer-logs"
	s.Emu.Register(t, key, cos, false)

	r := s.Starter("shred", "--instance", name, "--include-backups")

	require.Equal(t, 1, r.Code, r.Stderr)
	require.Contains(t, r.Stderr, cos)
	require.Contains(t, r.Stderr, "[ForeignRegistrations]")
	doc := s.Status(name)
	require.Equal(t, "active", doc.State)
	requireAllAt(t, doc.Nodes, 2, key)
	require.Len(t, servers(name), 2, "both servers still run")
	k, err := s.Emu.OperatorClient(t).GetKeyMetadata(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, contract.KPStateActive, k.State, "the root key is untouched")
}

// otherKP is a second Key Protect instance of the emulator's account.
const otherKP = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"

// A backup of an instance keyed in the default Key Protect instance is
// restored into a new instance keyed in another Key Protect instance; the
// copy then rotates there.
func TestRestore_IntoAnotherKPInstanceThenRotate(t *testing.T) {
	s := dataStack(t)
	s.Emu.AddKPInstance(t, otherKP)
	srcKey := s.CreateRootKey("kp-src-root")
	var dst struct{ ID, Name string }
	s.mustJSON(&dst, "keys", "create", "--name", "kp-dst-root", "--kp-instance", otherKP, "--json")
	orig := s.provisionWithData(t, "kp-src", srcKey)
	want := s.checksums(t, orig)
	var backup backupDoc
	s.mustJSON(&backup, "backup", "--instance", orig, "--json")

	restored := UniqueName("kp-copy")
	var res statusDoc
	s.mustJSON(&res, "restore", "--backup", backup.BackupID, "--instance", restored, "--kp-instance", otherKP,
		"--root-key", dst.ID, "--create-authorization", "--json")

	requireAllAt(t, res.Nodes, 3, dst.ID)
	require.Equal(t, dst.ID, s.Status(restored).RootKeyID)
	require.Equal(t, want, s.checksums(t, restored), "restored content equals the original")
	ops := s.Emu.KPClient(t, s.Emu.Dev.OperatorAPIKey, otherKP)
	regs, err := ops.ListRegistrations(context.Background(), dst.ID, "")
	require.NoError(t, err)
	require.Len(t, regs.Registrations, 1, "the copy is registered with the key of the other instance")

	var rot statusDoc
	s.mustJSON(&rot, "rotate", "--instance", restored, "--json")
	key, err := ops.GetKeyMetadata(context.Background(), dst.ID)
	require.NoError(t, err)
	require.Equal(t, key.KeyVersion.ID, rot.KeyVersion, "rotated in the other Key Protect instance")
	require.NotEqual(t, dst.ID, rot.KeyVersion)
	requireAllAt(t, s.Status(restored).Nodes, 3, rot.KeyVersion)
	require.Equal(t, want, s.checksums(t, restored), "the rotated copy still reads its data")
}

// backupFile is the path of a backup in the stack's backup store.
func (s *Stack) backupFile(id string) string {
	matches, _ := filepath.Glob(filepath.Join(s.dataDir, "backups", id+"*"))
	require.Len(s.t, matches, 1, "backup file of %s", id)
	return matches[0]
}

func requireNoPlaintext(t *testing.T, path, marker string) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.False(t, strings.Contains(string(b), marker), "backup file holds plaintext %q", marker)
}
