package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/codec"
	"github.com/byokflow/byokflow/internal/temporalenv"
)

// secret is a value that must appear nowhere: what it is, and its bytes.
type secret struct {
	what  string
	value []byte
}

// haystack is a place searched for secrets.
type haystack struct {
	where string
	data  []byte
}

// findSecrets returns "secret in place" for every secret found raw, as hex
// or as base64 in a haystack.
func findSecrets(secrets []secret, stacks []haystack) []string {
	var hits []string
	for _, s := range secrets {
		forms := [][]byte{s.value, []byte(hex.EncodeToString(s.value)),
			[]byte(base64.StdEncoding.EncodeToString(s.value)), []byte(base64.RawURLEncoding.EncodeToString(s.value))}
		for _, h := range stacks {
			for _, f := range forms {
				if len(f) > 0 && bytes.Contains(h.data, f) {
					hits = append(hits, s.what+" in "+h.where)
					break
				}
			}
		}
	}
	return hits
}

func TestFindSecrets_FindsEveryForm(t *testing.T) {
	key := []byte{0xde, 0xad, 0xbe, 0xef, 0x01}
	s := []secret{{"dek", key}}
	for _, form := range []string{string(key), hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key)} {
		require.Len(t, findSecrets(s, []haystack{{"log", []byte("x " + form + " y")}}), 1, form)
	}
	require.Empty(t, findSecrets(s, []haystack{{"log", []byte("nothing here")}}))
}

// secrets collects every secret of the stack's run so far.
func (s *Stack) secrets(t *testing.T) []secret {
	out := []secret{
		{"operator API key", []byte(s.Emu.Dev.OperatorAPIKey)},
		{"service API key", []byte(s.Emu.Dev.ServiceAPIKey)},
		{"codec API key", []byte(s.Emu.Dev.CodecAPIKey)},
	}
	for _, tok := range s.Emu.Tokens() {
		out = append(out, secret{"IAM token", []byte(tok)})
	}
	b, err := os.ReadFile(filepath.Join(s.dataDir, "data-keys.hex"))
	require.NoError(t, err, "the programs report their data keys (-tags byoktest)")
	for _, line := range strings.Fields(string(b)) {
		k, err := hex.DecodeString(line)
		require.NoError(t, err)
		out = append(out, secret{"data key", k})
	}
	// The admin passwords the starter keeps for the operator, of the
	// instances that still exist (a shred removes its instance's).
	files, err := filepath.Glob(filepath.Join(s.dataDir, "credentials", "*.pgpass"))
	require.NoError(t, err)
	for _, f := range files {
		out = append(out, secret{"instance password", []byte(readPassword(t, s, strings.TrimSuffix(filepath.Base(f), ".pgpass")))})
	}
	return out
}

// histories returns the raw and the decoded histories of the workflows of
// instances, as protobuf bytes (payload data is stored there as is).
func (s *Stack) histories(t *testing.T, raw client.Client, instances []string, decode bool) []haystack {
	var out []haystack
	for _, id := range workflowsOf(t, raw, instances, 1) {
		events := history(t, raw, id)
		if decode {
			events = decodeEvents(t, s.Codec(), events)
		}
		for _, e := range events {
			b, err := proto.Marshal(e)
			require.NoError(t, err)
			out = append(out, haystack{"history of " + id, b})
		}
	}
	return out
}

// logs returns every log file of the stack's programs.
func (s *Stack) logs(t *testing.T) []haystack {
	files, err := filepath.Glob(filepath.Join(s.dataDir, "*.log"))
	require.NoError(t, err)
	var out []haystack
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, haystack{"log " + filepath.Base(f), b})
	}
	return out
}

// catalogRows returns every row of every table of the catalog, as JSON.
func (s *Stack) catalogRows(t *testing.T) []haystack {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.getenv()("BYOK_DATABASE_URL"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "select schemaname || '.' || tablename from pg_tables where schemaname not in ('pg_catalog', 'information_schema')")
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	var out []haystack
	for _, table := range tables {
		rows, err := conn.Query(ctx, "select row_to_json(t)::text from "+table+" t")
		require.NoError(t, err)
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		for _, row := range texts {
			out = append(out, haystack{"catalog table " + table, []byte(row)})
		}
	}
	return out
}

// plant starts a workflow whose memo holds a secret, through the
// programs' own client settings (codec on or off as the stack has it).
func (s *Stack) plant(t *testing.T, instance string, planted []byte) {
	var pc converter.PayloadCodec
	if s.getenv()(codec.EnvSwitch) != "off" {
		pc = s.Codec()
	}
	opts, err := temporalenv.Options(envLookup(s.getenv()), nil, pc)
	require.NoError(t, err)
	c, err := client.Dial(opts)
	require.NoError(t, err)
	defer c.Close()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: "planted-" + instance, TaskQueue: contract.ControlTaskQueue, Memo: map[string]any{"note": string(planted)},
		TypedSearchAttributes: temporal.NewSearchAttributes(contract.InstanceIDKey.ValueSet(instance)),
	}, contract.WorkflowProvisionEncryptedInstance, contract.ProvisionInput{InstanceID: instance})
	require.NoError(t, err)
	require.Error(t, run.Get(context.Background(), nil), "an input without a root key fails")
}

// envLookup is the stack's environment for the SDK's envconfig.
type envLookup func(string) string

func (e envLookup) LookupEnv(k string) (string, bool) { v := e(k); return v, v != "" }
func (e envLookup) Environ() []string                 { return nil }

func TestSecretScan_NoSecretInHistoriesLogsOrCatalog(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	instances := s.everyWorkflow(t)
	planted := []byte("planted-secret-" + randomHex(8))
	s.plant(t, instances[0], planted)
	raw := rawClient(t)
	workflowsOf(t, raw, instances, 7) // wait for visibility to list all of them

	secrets := s.secrets(t)
	require.Greater(t, len(secrets), 10, "keys, tokens and data keys were collected")
	places := append(append(append(s.histories(t, raw, instances, false), s.histories(t, raw, instances, true)...),
		s.logs(t)...), s.catalogRows(t)...)
	require.Empty(t, findSecrets(secrets, places))
	require.Empty(t, findSecrets([]secret{{"planted secret", planted}}, s.histories(t, raw, instances, false)),
		"the raw histories hold the planted secret sealed")

	t.Run("control run with the codec off finds the planted secret", func(t *testing.T) {
		off := NewStack(t)
		off.env = append(off.env, "BYOK_CODEC=off")
		off.StartWorker()
		name := UniqueName("unsealed")
		off.plant(t, name, planted)
		hits := findSecrets([]secret{{"planted secret", planted}}, off.histories(t, raw, []string{name}, false))
		require.NotEmpty(t, hits, "without the codec the scan finds the secret, so it can fail")
	})
}
