package emulator_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// stateKey is a key brought into a state, with a ciphertext wrapped while
// it was active, and a fresh client (the clock may have moved).
type stateKey struct {
	env *emulatortest.Env
	c   *kp.Client
	id  string
	ct  []byte
}

// rawErr carries the status and reason of a raw HTTP answer.
type rawErr struct {
	status int
	code   string
}

func (e *rawErr) Error() string { return fmt.Sprintf("status %d %s", e.status, e.code) }

func keyInState(t *testing.T, state int, dualAuth bool) *stateKey {
	env, clk := startWithClock(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	exp := time.Now().Add(time.Hour)
	var pol kp.Policy
	if dualAuth {
		pol.DualAuth = &kp.DualAuth{Enabled: ptrTo(true)}
	}
	k, err := c.CreateKeyWithPolicyOverridesWithOptions(ctx, "matrix", false, pol, kp.WithExpiration(&exp))
	require.NoError(t, err)
	ct, err := c.Wrap(ctx, k.ID, b64(dek(9)), nil)
	require.NoError(t, err)
	switch state {
	case 2:
		require.NoError(t, c.DisableKey(ctx, k.ID))
	case 3:
		clk.Advance(2 * time.Hour)
		c = env.OperatorClient(t) // tokens from the old time have expired
	case 5:
		deleter := c
		if dualAuth {
			require.NoError(t, c.InitiateDualAuthDelete(ctx, k.ID))
			deleter = secondManager(t, env)
		}
		_, err = deleter.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
		require.NoError(t, err)
	}
	got, err := c.GetKeyMetadata(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, state, got.State)
	return &stateKey{env: env, c: c, id: k.ID, ct: ct}
}

// secondManager adds another Manager on the dev instance, for dual
// authorization, and returns its client.
func secondManager(t *testing.T, env *emulatortest.Env) *kp.Client {
	t.Helper()
	require.NoError(t, env.Server.AddUser(env.Dev.AccountID, "second-manager-key", "IBMid-second-manager",
		map[string]string{env.Dev.KPInstanceID: "Manager"}))
	return env.KPClient(t, "second-manager-key", env.Dev.KPInstanceID)
}

func (s *stateKey) rewrap(t *testing.T) error {
	resp := s.env.Do(t, http.MethodPost, "/api/v2/keys/"+s.id+"/actions/rewrap",
		s.env.Token(t, s.env.Dev.OperatorAPIKey), map[string]any{"ciphertext": string(s.ct)}, nil)
	if resp.Status == http.StatusOK {
		return nil
	}
	var env struct {
		Resources []struct{ Reasons []struct{ Code string } }
	}
	resp.JSON(t, &env)
	return &rawErr{status: resp.Status, code: env.Resources[0].Reasons[0].Code}
}

var matrixOps = map[string]func(t *testing.T, s *stateKey) error{
	"get":      func(t *testing.T, s *stateKey) error { _, err := s.c.GetKey(ctx, s.id); return err },
	"wrap":     func(t *testing.T, s *stateKey) error { _, err := s.c.Wrap(ctx, s.id, b64(dek(1)), nil); return err },
	"unwrap":   func(t *testing.T, s *stateKey) error { _, err := s.c.Unwrap(ctx, s.id, s.ct, nil); return err },
	"rewrap":   func(t *testing.T, s *stateKey) error { return s.rewrap(t) },
	"rotate":   func(t *testing.T, s *stateKey) error { return s.c.Rotate(ctx, s.id, "") },
	"disable":  func(t *testing.T, s *stateKey) error { return s.c.DisableKey(ctx, s.id) },
	"enable":   func(t *testing.T, s *stateKey) error { return s.c.EnableKey(ctx, s.id) },
	"setDel":   func(t *testing.T, s *stateKey) error { return s.c.InitiateDualAuthDelete(ctx, s.id) },
	"unsetDel": func(t *testing.T, s *stateKey) error { return s.c.CancelDualAuthDelete(ctx, s.id) },
	"delete": func(t *testing.T, s *stateKey) error {
		_, err := s.c.DeleteKey(ctx, s.id, kp.ReturnMinimal)
		return err
	},
	"restore":  func(t *testing.T, s *stateKey) error { _, err := s.c.RestoreKey(ctx, s.id); return err },
	"purge":    func(t *testing.T, s *stateKey) error { _, err := s.c.PurgeKey(ctx, s.id, kp.ReturnMinimal); return err },
	"versions": func(t *testing.T, s *stateKey) error { _, err := s.c.ListKeyVersions(ctx, s.id, nil); return err },
	"policies": func(t *testing.T, s *stateKey) error { _, err := s.c.GetPolicies(ctx, s.id); return err },
}

// The spec §3.2 matrix: 0 = allowed, 409 = KEY_ACTION_INVALID_STATE_ERR,
// 410 = KEY_DELETED_ERR.
var matrixWant = map[string][4]int{ //  Active, Suspended, Deactivated, Destroyed
	"get":      {0, 0, 0, 0},
	"wrap":     {0, 409, 409, 410},
	"unwrap":   {0, 409, 0, 410},
	"rewrap":   {0, 409, 0, 410},
	"rotate":   {0, 409, 0, 410},
	"disable":  {0, 409, 409, 410},
	"enable":   {409, 0, 409, 410},
	"setDel":   {0, 409, 409, 410},
	"unsetDel": {0, 409, 409, 410},
	"delete":   {0, 0, 0, 410},
	"restore":  {409, 409, 409, 0},
	"purge":    {409, 409, 409, 0},
	"versions": {0, 409, 409, 409},
	"policies": {0, 0, 0, 0},
}

func TestStateMatrix_Operations(t *testing.T) {
	for i, state := range []int{1, 2, 3, 5} {
		for op, want := range matrixWant {
			t.Run(fmt.Sprintf("state%d/%s", state, op), func(t *testing.T) {
				s := keyInState(t, state, op == "setDel" || op == "unsetDel")
				err := matrixOps[op](t, s)
				requireOutcome(t, err, want[i])
			})
		}
	}
}

func requireOutcome(t *testing.T, err error, want int) {
	t.Helper()
	if want == 0 {
		require.NoError(t, err)
		return
	}
	code := map[int]string{409: "KEY_ACTION_INVALID_STATE_ERR", 410: "KEY_DELETED_ERR"}[want]
	var raw *rawErr
	if errors.As(err, &raw) {
		require.Equal(t, want, raw.status)
		require.Equal(t, code, raw.code)
		return
	}
	requireKPErr(t, err, want, code)
}

func TestStateMatrix_ListVisibility(t *testing.T) {
	for _, state := range []int{1, 2, 3, 5} {
		t.Run(fmt.Sprint(state), func(t *testing.T) {
			s := keyInState(t, state, false)
			def, err := s.c.GetKeys(ctx, 0, 0)
			require.NoError(t, err)
			require.Equal(t, state != 5, len(def.Keys) == 1, "default list shows all but destroyed")
			only, err := s.c.ListKeys(ctx, &kp.ListKeysOptions{State: []kp.KeyState{kp.KeyState(state)}})
			require.NoError(t, err)
			require.Equal(t, []string{s.id}, ids(only.Keys))
		})
	}
}
