package emulator_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogs_NoSecrets(t *testing.T) {
	var logs syncBuffer
	env := emulatortest.Start(t, emulatortest.WithConfig(func(c *emulator.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	env.AuthorizeService(t)
	c := env.OperatorClient(t)
	std, err := c.CreateImportedStandardKey(ctx, "std", nil, string(b64([]byte("standard-secret-material"))))
	require.NoError(t, err)
	_, err = c.GetKey(ctx, std.ID)
	require.NoError(t, err)
	k := rootKey(t, c, "logged")
	svc := env.ServiceClient(t)
	pt, ct, err := svc.WrapCreateDEK(ctx, k.ID, &[]string{"aad"})
	require.NoError(t, err)
	_, err = svc.Unwrap(ctx, k.ID, ct, &[]string{"aad"})
	require.NoError(t, err)
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/wrap", tok, `{"plaintext":"c2VjcmV0"}`, nil)

	out := logs.String()
	require.Contains(t, out, "op=wrap", "requests are logged at debug level")
	for name, secret := range map[string]string{
		"operator API key": env.Dev.OperatorAPIKey, "service API key": env.Dev.ServiceAPIKey,
		"token": tok, "token tail": tok[len(tok)-20:], "DEK": string(pt), "plaintext": "c2VjcmV0",
		"standard material": string(b64([]byte("standard-secret-material"))),
	} {
		require.False(t, strings.Contains(out, secret), "%s leaked into the log", name)
	}
}
