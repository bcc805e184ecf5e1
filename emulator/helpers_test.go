package emulator_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

var ctx = context.Background()

// requireKPErr asserts a *kp.Error with the status and, when not empty,
// the first reason code.
func requireKPErr(t *testing.T, err error, status int, code string) *kp.Error {
	t.Helper()
	var e *kp.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, status, e.StatusCode, "body: %s", e.BodyContent)
	if code != "" {
		require.NotEmpty(t, e.Reasons, "body: %s", e.BodyContent)
		require.Equal(t, code, e.Reasons[0].Code, "body: %s", e.BodyContent)
	}
	return e
}

func rootKey(t testing.TB, c *kp.Client, name string) *kp.Key {
	t.Helper()
	k, err := c.CreateRootKey(ctx, name, nil)
	require.NoError(t, err, "create root key")
	return k
}

func b64(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }

func dek(n byte) []byte {
	d := make([]byte, 32)
	for i := range d {
		d[i] = n + byte(i)
	}
	return d
}

// fakeClock is an adjustable Config.Clock.
type fakeClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// startWithClock starts an emulator whose clock the test moves.
func startWithClock(t *testing.T, opts ...emulatortest.Option) (*emulatortest.Env, *fakeClock) {
	clk := &fakeClock{}
	opts = append(opts, emulatortest.WithConfig(func(c *emulator.Config) { c.Clock = clk.Now }))
	return emulatortest.Start(t, opts...), clk
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
