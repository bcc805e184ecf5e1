package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// Key Protect performs a call and its answer is lost (the connection
// closes): the kp client, or the activity's retry, sends it again. Each
// step must still happen exactly once and leave nothing behind. The
// rotation guard is on, as on the real service: a second rotate within the
// hour is refused, which must read as this rotation's success.
func TestLostAnswers_EachKeyProtectStepHappensOnce(t *testing.T) {
	s := NewStack(t, emulatortest.WithTiming(emulator.Timing{RotationInterval: time.Hour}))
	s.StartWorker()
	for _, h := range stackHosts {
		s.StartNode(h)
	}
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("lost-answers-root")
	name := UniqueName("lost")
	emu := s.Emu.Server
	ctx := context.Background()

	require.NoError(t, emu.DropResponses(emulator.OpCreateRegistration, 1))
	require.NoError(t, emu.DropResponses(emulator.OpWrap, 1))
	var prov statusDoc
	s.mustJSON(&prov, "provision", "--instance", name, "--root-key", key, "--nodes", "3", "--json")
	requireAllAt(t, prov.Nodes, 3, key)
	regs, err := s.Emu.OperatorClient(t).ListRegistrations(ctx, key, "")
	require.NoError(t, err)
	require.Len(t, regs.Registrations, 1, "one registration despite the lost answer")
	require.Len(t, servers(name), 3)

	require.NoError(t, emu.DropResponses(emulator.OpRotate, 1))
	var rot statusDoc
	s.mustJSON(&rot, "rotate", "--instance", name, "--json")
	require.True(t, rot.Rotated, "the refused retry of a rotation that happened is this rotation")
	require.Len(t, s.succeeded(key, emulator.OpRotate), 1, "exactly one rotation in Key Protect")
	require.NotEqual(t, key, rot.KeyVersion)
	requireAllAt(t, s.Status(name).Nodes, 3, rot.KeyVersion)

	require.NoError(t, emu.DropResponses(emulator.OpDeleteRegistration, 1))
	require.NoError(t, emu.DropResponses(emulator.OpDeleteKey, 1))
	var cert map[string]any
	s.mustJSON(&cert, "shred", "--instance", name, "--json")
	require.Equal(t, true, cert["keyDeleted"])
	require.Len(t, s.succeeded(key, emulator.OpDeleteKey), 1, "one deletion")
	regs, err = s.Emu.OperatorClient(t).ListRegistrations(ctx, key, "")
	require.NoError(t, err)
	require.Empty(t, regs.Registrations, "no orphan registration")
	require.Empty(t, servers(name), "no orphan server")
	require.Empty(t, s.nodeFiles(name), "no orphan directory")
	require.Empty(t, s.slotFiles(name), "no orphan key slot")
	drops := emu.DroppedResponses()
	for _, op := range []string{emulator.OpCreateRegistration, emulator.OpWrap, emulator.OpRotate,
		emulator.OpDeleteRegistration, emulator.OpDeleteKey} {
		require.EqualValues(t, 1, drops[op], "the answer of one %s was lost", op)
	}
}

// succeeded lists Key Protect's successful calls of action on key.
func (s *Stack) succeeded(keyID, action string) []emulator.ActivityRecord {
	var ok []emulator.ActivityRecord
	for _, r := range s.Emu.Server.Activity(emulator.ActivityFilter{KeyID: keyID, Action: action}) {
		if r.Outcome == "success" {
			ok = append(ok, r)
		}
	}
	return ok
}
