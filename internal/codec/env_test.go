package codec_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/byokflow/byokflow/emulator/emulatortest"
	"github.com/byokflow/byokflow/internal/codec"
)

func envOf(e *emulatortest.Env, extra map[string]string) func(string) string {
	vars := map[string]string{}
	for _, line := range e.Dev.ExportLines(e.URL) {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	return func(k string) string { return vars[k] }
}

func TestFromEnv_KeyProtectWrapsTheCodecKey(t *testing.T) {
	emu := emulatortest.Start(t, emulatortest.WithMemory())
	path := filepath.Join(t.TempDir(), "codec-keyring.json")
	getenv := envOf(emu, map[string]string{codec.EnvKeyring: path})
	ctx := context.Background()
	root, err := codec.CreateRootKey(ctx, getenv, "byokflow-payload-codec")
	require.NoError(t, err)
	w, _, err := codec.Wrapper(getenv)
	require.NoError(t, err)
	_, err = codec.Rotate(ctx, path, w, root)
	require.NoError(t, err)

	c, err := codec.FromEnv(ctx, getenv)
	require.NoError(t, err)
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
	p, err := dc.ToPayload("orders")
	require.NoError(t, err)
	var s string
	require.NoError(t, dc.FromPayload(p, &s))
	require.Equal(t, "orders", s)

	customer := envOf(emu, map[string]string{codec.EnvKeyring: path, "BYOK_CODEC_API_KEY": emu.Dev.OperatorAPIKey})
	_, err = codec.FromEnv(ctx, customer)
	require.ErrorContains(t, err, "unwrap codec key", "the customer's operator cannot unwrap the platform's codec keys")
}

func TestFromEnv_OffOrUnset(t *testing.T) {
	_, err := codec.FromEnv(context.Background(), func(k string) string { return map[string]string{codec.EnvSwitch: "off"}[k] })
	require.ErrorIs(t, err, codec.ErrOff)
	_, err = codec.FromEnv(context.Background(), func(string) string { return "" })
	require.ErrorContains(t, err, "BYOK_CODEC_KEYRING is not set")
}
