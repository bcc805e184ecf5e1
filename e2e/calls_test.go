package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
)

// TestKeyProtectCalls_PerOperation counts the Key Protect and IAM requests
// each operation makes against the emulator: to provision, one wrap per node
// (its DEK) plus one for the replication password, which each standby
// unwraps once; to rotate, one rotate plus one unwrap or rewrap per node;
// and IAM tokens fetched once per client, not per call. Each starter run
// also unwraps the payload codec's key once, with one token of the
// platform's codec identity (the emulator serves both accounts).
const starterCodecCalls = 1

func TestKeyProtectCalls_PerOperation(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	for _, h := range []string{"a", "b", "c"} {
		s.StartNode(h)
	}
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("counted-root")
	name := UniqueName("counted")
	stats := s.Emu.Server.Stats

	before := stats()
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--json")
	prov := delta(before, stats())
	require.EqualValues(t, 3+1+1, prov[emulator.OpWrap], "one wrap per node, the replication password and the shred probe: %v", prov)
	require.EqualValues(t, 2+starterCodecCalls, prov[emulator.OpUnwrap],
		"each standby unwraps the replication password, the starter the codec key: %v", prov)
	require.Zero(t, prov[emulator.OpRewrap]+prov[emulator.OpRotate], "%v", prov)

	before = stats()
	s.mustJSON(&statusDoc{}, "rotate", "--instance", name, "--json")
	rot := delta(before, stats())
	require.EqualValues(t, 1, rot[emulator.OpRotate], "%v", rot)
	require.EqualValues(t, 3+starterCodecCalls, rot[emulator.OpUnwrap]+rot[emulator.OpRewrap], "one unwrap or rewrap per node: %v", rot)
	require.Zero(t, rot[emulator.OpWrap], "%v", rot)
	require.EqualValues(t, starterCodecCalls, rot[emulator.OpToken], "tokens are cached across operations: %v", rot)

	before = stats()
	s.mustJSON(&statusDoc{}, "rotate", "--instance", name, "--json")
	require.EqualValues(t, starterCodecCalls, delta(before, stats())[emulator.OpToken], "no token fetched per call")
}

func delta(before, after map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}
