package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/internal/codec"
	"github.com/byokflow/byokflow/internal/testenv"
)

// everyWorkflow runs each workflow type once through the starter:
// provision, backup, rotate, restore (with its child provision), a shred
// approved by a second operator (the approve signal) and a provision that
// fails. It returns the instance ids it used.
func (s *Stack) everyWorkflow(t *testing.T) []string {
	t.Helper()
	key, other := s.CreateRootKey("sealed-root"), s.CreateRootKey("sealed-other")
	name, copyName, failed := UniqueName("sealed"), UniqueName("sealedcopy"), UniqueName("sealedfail")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--create-authorization", "--json")
	r := s.Starter("sql", "--instance", name, "-c", "create table t (id int primary key, v text); insert into t values (1, 'row one')")
	require.Equal(t, 0, r.Code, r.Stderr)
	var backup struct {
		BackupID string `json:"backupId"`
	}
	s.mustJSON(&backup, "backup", "--instance", name, "--json")
	s.mustJSON(&statusDoc{}, "rotate", "--instance", name, "--json")
	s.mustJSON(&map[string]any{}, "restore", "--backup", backup.BackupID, "--instance", copyName, "--root-key", other, "--nodes", "2", "--json")

	done := s.StarterAsyncEnv([]string{"BYOK_OPERATOR=alice"}, "shred", "--instance", name, "--include-backups", "--require-approval", "--json")
	eventually(t, "the shred to take the approver's approval", func() bool {
		return s.StarterEnv([]string{"IBMCLOUD_API_KEY=" + s.Emu.Dev.ApproverAPIKey}, "approve", "--workflow", "shred-"+name).Code == 0
	})
	res := <-done
	require.Equal(t, 0, res.Code, res.Stderr)

	r = s.Starter("provision", "--instance", failed, "--root-key", "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "--nodes", "1")
	require.Equal(t, 1, r.Code, r.Stderr)
	return []string{name, copyName, failed}
}

// workflowsOf lists the workflow ids of instances, and their children.
func workflowsOf(t *testing.T, c client.Client, instances []string, atLeast int) []string {
	t.Helper()
	clauses := make([]string, len(instances))
	for i, in := range instances {
		clauses[i] = fmt.Sprintf("ByokInstanceID = '%s'", in)
	}
	var ids []string
	eventually(t, "visibility to list the workflows", func() bool {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: "default", Query: strings.Join(clauses, " OR ")})
		if err != nil {
			return false
		}
		ids = ids[:0]
		for _, e := range resp.Executions {
			ids = append(ids, e.Execution.WorkflowId)
		}
		return len(ids) >= atLeast
	})
	for _, id := range ids {
		for _, e := range history(t, c, id) {
			if a := e.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
				ids = append(ids, a.WorkflowExecution.WorkflowId)
			}
		}
	}
	return ids
}

func TestHistories_EveryPayloadAndFailureEncrypted(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	instances := s.everyWorkflow(t)
	raw, c := rawClient(t), s.Codec()

	seen := map[enumspb.EventType]int{}
	for _, id := range workflowsOf(t, raw, instances, 6) {
		t.Run(id, func(t *testing.T) {
			events := history(t, raw, id)
			payloads, failures := 0, 0
			for _, e := range events {
				seen[e.EventType]++
				eachPayload(e.ProtoReflect(), func(p *commonpb.Payload) {
					payloads++
					require.Equal(t, codec.EncodingEncrypted, string(p.Metadata["encoding"]), "event %d %s", e.EventId, e.EventType)
					require.NotEmpty(t, p.Metadata[codec.MetadataKeyID])
				})
				eachFailure(e.ProtoReflect(), func(f *failurepb.Failure) {
					failures++
					require.Equal(t, "Encoded failure", f.Message, "event %d %s: the message is sealed", e.EventId, e.EventType)
					require.Empty(t, f.StackTrace)
				})
			}
			require.Positive(t, payloads)
			requireStartInputDecodes(t, c, events, instances)
		})
	}
	for _, et := range []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED} {
		require.Positive(t, seen[et], "the story has a %s event", et)
	}
}

// requireStartInputDecodes decodes the workflow's input through the codec
// and finds the instance id in it.
func requireStartInputDecodes(t *testing.T, c *codec.Codec, events []*historypb.HistoryEvent, instances []string) {
	t.Helper()
	start := decodeEvents(t, c, events[:1])[0].GetWorkflowExecutionStartedEventAttributes()
	require.NotNil(t, start)
	require.Equal(t, "json/plain", string(start.Input.Payloads[0].Metadata["encoding"]))
	var in map[string]any
	require.NoError(t, json.Unmarshal(start.Input.Payloads[0].Data, &in))
	text := string(start.Input.Payloads[0].Data)
	found := false
	for _, name := range instances {
		found = found || strings.Contains(text, name)
	}
	require.True(t, found, "decoded input names an instance: %s", text)
}

func TestCodecKeyRotation_OldHistoriesStillDecode(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartCodecServer()
	key := s.CreateRootKey("rotated-codec-root")
	before := UniqueName("beforerot")
	s.mustJSON(&statusDoc{}, "provision", "--instance", before, "--root-key", key, "--nodes", "1", "--create-authorization", "--json")
	oldKey := keyIDOfInput(t, "provision-"+before)

	newKey := s.RotateCodecKey()
	eventually(t, "the programs to seal under the new codec key", func() bool {
		after := UniqueName("afterrot")
		s.mustJSON(&statusDoc{}, "provision", "--instance", after, "--root-key", key, "--nodes", "1", "--json")
		return keyIDOfInput(t, "provision-"+after) == newKey.ID
	})
	require.NotEqual(t, oldKey, newKey.ID)

	cli, _ := testenv.TemporalCLI(t)
	out, err := exec.Command(cli, "workflow", "show", "--workflow-id", "provision-"+before, "--address", shared.hostPort,
		"--namespace", "default", "--codec-endpoint", "http://"+shared.ui.Codec, "--output", "json").CombinedOutput()
	require.NoError(t, err, "%s", out)
	b64 := base64.StdEncoding.EncodeToString
	require.Contains(t, string(out), b64([]byte("json/plain")), "the CLI decodes through the codec server")
	require.NotContains(t, string(out), b64([]byte(codec.EncodingEncrypted)))
	require.True(t, anyDataContains(t, out, before), "the decoded input names %s", before)
	r := s.Starter("status", "--instance", before)
	require.Equal(t, 0, r.Code, r.Stderr)
}

// keyIDOfInput is the codec key id sealing the workflow's input.
func keyIDOfInput(t *testing.T, workflowID string) string {
	start := history(t, rawClient(t), workflowID)[0].GetWorkflowExecutionStartedEventAttributes()
	return string(start.Input.Payloads[0].Metadata[codec.MetadataKeyID])
}

// anyDataContains reports whether a base64 "data" member anywhere in the
// JSON document decodes to text containing want.
func anyDataContains(t *testing.T, doc []byte, want string) bool {
	var v any
	require.NoError(t, json.Unmarshal(doc, &v))
	var found func(any) bool
	found = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "data" {
					if b, err := base64.StdEncoding.DecodeString(s); err == nil && strings.Contains(string(b), want) {
						return true
					}
				}
				if found(e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if found(e) {
					return true
				}
			}
		}
		return false
	}
	return found(v)
}
