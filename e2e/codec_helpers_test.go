package e2e

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/byokflow/byokflow/internal/codec"
)

// uiPorts are the shared dev server's Web UI port and the address of the
// codec server its --ui-codec-endpoint names (started by the tests that
// need it).
type uiPorts struct {
	UI    string
	Codec string
}

func freeUIPorts() uiPorts {
	return uiPorts{UI: strconv.Itoa(freePort()), Codec: "127.0.0.1:" + strconv.Itoa(freePort())}
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// codecEnv makes the stack's codec keyring (a codec key wrapped by a
// platform root key in the stack's emulator) and returns the settings
// every program gets: the keyring, a short refresh so rotations show at
// once, and the test-only log of data keys (binaries built -tags byoktest).
func (s *Stack) codecEnv() []string {
	s.t.Helper()
	path := filepath.Join(s.dataDir, "codec-keyring.json")
	getenv := s.getenv()
	root, err := codec.CreateRootKey(context.Background(), getenv, "byokflow-payload-codec")
	require.NoError(s.t, err)
	s.codecRoot = root
	w, _, err := codec.Wrapper(getenv)
	require.NoError(s.t, err)
	_, err = codec.Rotate(context.Background(), path, w, root)
	require.NoError(s.t, err)
	return []string{codec.EnvKeyring + "=" + path, codec.EnvRefresh + "=1s",
		"BYOK_TEST_KEY_LOG=" + filepath.Join(s.dataDir, "data-keys.hex")}
}

// getenv looks variables up in the stack's environment (last one wins).
func (s *Stack) getenv() func(string) string {
	return func(k string) string {
		v := ""
		for _, kv := range s.env {
			if name, val, ok := strings.Cut(kv, "="); ok && name == k {
				v = val
			}
		}
		return v
	}
}

// RotateCodecKey adds a codec key to the stack's keyring.
func (s *Stack) RotateCodecKey() codec.Entry {
	s.t.Helper()
	w, _, err := codec.Wrapper(s.getenv())
	require.NoError(s.t, err)
	e, err := codec.Rotate(context.Background(), s.getenv()(codec.EnvKeyring), w, s.codecRoot)
	require.NoError(s.t, err)
	return e
}

// Codec opens the stack's keyring as the programs do.
func (s *Stack) Codec() *codec.Codec {
	s.t.Helper()
	c, err := codec.FromEnv(context.Background(), s.getenv())
	require.NoError(s.t, err)
	return c
}

// StartCodecServer runs `worker codec-server` on the address the shared
// dev server's Web UI decodes with, authorization off (the dev server's UI
// has no login to pass a token from).
func (s *Stack) StartCodecServer() {
	s.start("codec-server", "codec-server", "--addr", shared.ui.Codec, "--dev-no-auth",
		"--ui-origin", "http://127.0.0.1:"+shared.ui.UI+",http://localhost:"+shared.ui.UI)
}

// StopCodecServer stops it.
func (s *Stack) StopCodecServer() { s.stop("codec-server") }

// rawClient reads histories as the Temporal server stores them: no codec.
func rawClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: shared.hostPort, Namespace: "default"})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// codecClient is a Temporal client that encodes and decodes as the
// programs do (the stack's codec keyring).
func (s *Stack) codecClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: shared.hostPort, Namespace: "default",
		DataConverter: converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), s.Codec())})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// history returns every event of the workflow's latest run, raw.
func history(t *testing.T, c client.Client, workflowID string) []*historypb.HistoryEvent {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err, "history of %s", workflowID)
		events = append(events, e)
	}
	require.NotEmpty(t, events, "history of %s", workflowID)
	return events
}

// eachPayload calls fn on every payload of m and its sub-messages, except
// search attributes (Temporal indexes them; they carry ids only).
func eachPayload(m protoreflect.Message, fn func(*commonpb.Payload)) {
	walk(m, func(m protoreflect.Message) bool {
		switch v := m.Interface().(type) {
		case *commonpb.Payload:
			fn(v)
			return false
		case *commonpb.SearchAttributes:
			return false
		}
		return true
	})
}

// eachFailure calls fn on every failure of m, causes included.
func eachFailure(m protoreflect.Message, fn func(*failurepb.Failure)) {
	walk(m, func(m protoreflect.Message) bool {
		if f, ok := m.Interface().(*failurepb.Failure); ok {
			fn(f)
		}
		return true
	})
}

// walk calls visit on m and, while visit returns true, on its sub-messages.
func walk(m protoreflect.Message, visit func(protoreflect.Message) bool) {
	if !visit(m) {
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := 0; i < v.List().Len(); i++ {
				walk(v.List().Get(i).Message(), visit)
			}
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walk(mv.Message(), visit)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
			walk(v.Message(), visit)
		}
		return true
	})
}

// decodeEvents returns copies of events with every payload decoded by c.
func decodeEvents(t *testing.T, c *codec.Codec, events []*historypb.HistoryEvent) []*historypb.HistoryEvent {
	t.Helper()
	out := make([]*historypb.HistoryEvent, len(events))
	for i, e := range events {
		e = proto.Clone(e).(*historypb.HistoryEvent)
		eachPayload(e.ProtoReflect(), func(p *commonpb.Payload) {
			dec, err := c.Decode([]*commonpb.Payload{p})
			require.NoError(t, err)
			proto.Reset(p)
			proto.Merge(p, dec[0])
		})
		out[i] = e
	}
	return out
}
