package e2e

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
)

func TestProvisionRotate_ThreeNodesAcrossRestartsAndOutages(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	for _, h := range []string{"a", "b", "c"} {
		s.StartNode(h)
	}
	key := s.CreateRootKey("orders-root")
	name := UniqueName("orders")

	var prov statusDoc
	s.mustJSON(&prov, "provision", "--instance", name, "--root-key", key, "--create-authorization", "--json")
	requireAllAt(t, prov.Nodes, 3, key) // the first key version id equals the key id
	requireAllAt(t, s.Status(name).Nodes, 3, key)

	versions := []string{key}
	for range 2 {
		var rot statusDoc
		s.mustJSON(&rot, "rotate", "--instance", name, "--json")
		require.True(t, rot.Rotated)
		require.NotContains(t, versions, rot.KeyVersion)
		versions = append(versions, rot.KeyVersion)
		requireAllAt(t, rot.Nodes, 3, rot.KeyVersion)
		requireAllAt(t, s.Status(name).Nodes, 3, rot.KeyVersion)
	}
	require.EqualValues(t, 2, s.Emu.Server.Stats()[emulator.OpRotate], "one rotate per rotation")

	t.Run("restarted agent unwraps and reports active", func(t *testing.T) {
		before := nodeOn(s.Status(name).Nodes, "b")
		s.StopNode("b")
		s.StartNode("b")
		after := nodeOn(s.Status(name).Nodes, "b")
		require.Equal(t, "active", after.State)
		require.Equal(t, versions[2], after.KeyVersion)
		require.Equal(t, before.CheckValue, after.CheckValue, "same DEK after restart")
		require.Greater(t, after.ReportedAt, before.ReportedAt)
	})

	t.Run("rotation waits for a stopped agent and completes when it returns", func(t *testing.T) {
		s.StopNode("c")
		done := s.StarterAsync("rotate", "--instance", name, "--json")
		var newest string
		eventually(t, "nodes on a and b to rewrap", func() bool {
			st := s.Status(name)
			a, b := nodeOn(st.Nodes, "a"), nodeOn(st.Nodes, "b")
			newest = a.KeyVersion
			return a.KeyVersion != versions[2] && b.KeyVersion == a.KeyVersion
		})
		require.Equal(t, versions[2], nodeOn(s.Status(name).Nodes, "c").KeyVersion, "c is down, still on the old version")
		select {
		case r := <-done:
			t.Fatalf("rotation finished while node c was down: %+v", r)
		default:
		}
		s.StartNode("c")
		r := <-done
		require.Equal(t, 0, r.Code, r.Stderr)
		requireAllAt(t, s.Status(name).Nodes, 3, newest)
	})
}

func nodeOn(nodes []nodeRow, host string) nodeRow {
	for _, n := range nodes {
		if n.Host == host {
			return n
		}
	}
	return nodeRow{}
}

func TestProvision_MissingAuthorizationLeavesNothing(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	key := s.CreateRootKey("lonely-root")
	name := UniqueName("noauth")

	r := s.Starter("provision", "--instance", name, "--root-key", key, "--nodes", "1")
	require.Equal(t, 1, r.Code, r.Stderr)
	for _, want := range []string{"hyperp-dbaas-postgresql", s.Emu.Dev.KPInstanceID, "Reader", "--create-authorization", "[ServiceNotAuthorized]"} {
		require.Contains(t, r.Stderr, want)
	}
	s.requireNothingLeft(t, key, name)
}

func TestProvision_ErrorsTellTheUserWhatToDo(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	s.Emu.AuthorizeService(t)
	ops := s.Emu.OperatorClient(t)
	ctx := context.Background()

	standard, err := ops.CreateStandardKey(ctx, "standard", nil)
	require.NoError(t, err)
	disabled := s.CreateRootKey("disabled-root")
	err = ops.DisableKey(ctx, disabled)
	require.NoError(t, err)
	destroyed := s.CreateRootKey("destroyed-root")
	_, err = ops.DeleteKey(ctx, destroyed, kp.ReturnMinimal)
	require.NoError(t, err)
	elsewhere := s.keyInAnotherKPInstance(t)
	good := s.CreateRootKey("good-root")
	taken := UniqueName("taken")
	s.mustJSON(&statusDoc{}, "provision", "--instance", taken, "--root-key", good, "--nodes", "2", "--json")

	cases := []struct {
		name, instance, key string
		extra               []string
		code                int
		want                []string
	}{
		{"unknown key", UniqueName("unknown"), "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", nil, 1, []string{"not found", "[KeyNotFound]"}},
		{"standard key", UniqueName("standard"), standard.ID, nil, 1, []string{"root key", "[NotRootKey]"}},
		{"disabled key", UniqueName("disabled"), disabled, nil, 1, []string{"uspended", "enable"}},
		{"destroyed key", UniqueName("destroyed"), destroyed, nil, 1, []string{"estroyed"}},
		{"key in another instance", UniqueName("elsewhere"), elsewhere, nil, 1, []string{"[KeyNotFound]", s.Emu.Dev.KPInstanceID}},
		{"instance exists", taken, good, nil, 1, []string{taken, "[InstanceExists]"}},
		{"bad name", "Bad_Name", good, nil, 2, []string{"instance"}},
		{"short name", "ab", good, nil, 2, []string{"instance"}},
		{"too many nodes", UniqueName("many"), good, []string{"--nodes", "10"}, 2, []string{"node"}},
		{"negative nodes", UniqueName("neg"), good, []string{"--nodes", "-1"}, 2, []string{"node"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"provision", "--instance", tc.instance, "--root-key", tc.key, "--nodes", "2"}, tc.extra...)
			r := s.Starter(args...)
			require.Equal(t, tc.code, r.Code, "stdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
			for _, w := range tc.want {
				require.Contains(t, r.Stderr, w)
			}
			if tc.instance != taken {
				s.requireNothingLeft(t, tc.key, tc.instance)
			}
		})
	}
	requireAllAt(t, s.Status(taken).Nodes, 2, good)
}

// keyInAnotherKPInstance creates a root key in a second Key Protect instance
// of the account, with a second operator who has Manager there.
func (s *Stack) keyInAnotherKPInstance(t *testing.T) string {
	const other, apiKey = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "byok-e2e-other-operator-apikey-000000000001"
	require.NoError(t, s.Emu.Server.AddKPInstance(s.Emu.Dev.AccountID, other))
	require.NoError(t, s.Emu.Server.AddUser(s.Emu.Dev.AccountID, apiKey, "IBMid-e2e-other", map[string]string{other: "Manager"}))
	key, err := s.Emu.KPClient(t, apiKey, other).CreateRootKey(context.Background(), "elsewhere-root", nil)
	require.NoError(t, err)
	return key.ID
}

// requireNothingLeft asserts a failed provision left no catalog row and
// nothing else of it (requireNoFootprint).
func (s *Stack) requireNothingLeft(t *testing.T, keyID, instance string) {
	t.Helper()
	r := s.Starter("status", "--instance", instance)
	require.NotEqual(t, 0, r.Code, "catalog still knows %s:\n%s", instance, r.Stdout)
	s.requireNoFootprint(t, keyID, instance)
}

// requireNoFootprint asserts no key slot, admin password, node directory,
// running server or Key Protect registration of instance is left.
func (s *Stack) requireNoFootprint(t *testing.T, keyID, instance string) {
	t.Helper()
	require.Empty(t, s.slotFiles(instance), "key slots left for %s", instance)
	_, err := os.Stat(filepath.Join(s.dataDir, "credentials", instance+".pgpass"))
	require.ErrorIs(t, err, fs.ErrNotExist, "an admin password kept for %s, which does not exist", instance)
	require.Empty(t, s.nodeFiles(instance), "node directories left for %s", instance)
	require.Empty(t, servers(instance), "servers left running for %s", instance)
	regs, err := s.Emu.OperatorClient(t).ListRegistrations(context.Background(), keyID, "")
	if err != nil {
		require.Contains(t, err.Error(), "KEY_NOT_FOUND_ERR", "list registrations of key %s", keyID)
		return
	}
	for _, reg := range regs.Registrations {
		require.NotContains(t, reg.ResourceCrn, instance, "registration left for %s", instance)
	}
}
