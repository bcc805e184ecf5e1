package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
)

func TestParseFlags_Defaults(t *testing.T) {
	o, err := parseFlags(nil)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8444", o.addr)
	require.False(t, o.dev)
	require.False(t, o.cfg.DevClock, "no clock endpoint without --dev")
	require.Equal(t, emulator.DefaultTiming(), o.cfg.Timing, "real guards unless flagged")
	require.Equal(t, "us-south", o.cfg.Region)
	require.Equal(t, "hyperp-dbaas-postgresql", o.cfg.ServiceName)
	require.Equal(t, slog.LevelInfo, o.logLevel)
	require.Equal(t, emulator.Faults{}, o.cfg.Faults)
}

func TestParseFlags_Values(t *testing.T) {
	o, err := parseFlags([]string{"--dev", "--data", "/tmp/x", "--enable-delay", "0", "--rotation-interval", "1s",
		"--purge-delay", "2s", "--restore-window", "3s", "--dual-auth-window", "4s", "--sync-interval", "6s", "--latency", "5ms",
		"--rate-429", "0.1", "--rate-503", "0.2", "--outage-from", "2030-01-01T00:00:00Z",
		"--outage-until", "2030-01-02T00:00:00Z", "--service-name", "svc", "--region", "eu-de", "--log-level", "debug"})
	require.NoError(t, err)
	require.True(t, o.dev)
	require.True(t, o.cfg.DevClock, "--dev serves the clock endpoint")
	require.Equal(t, emulator.Timing{RotationInterval: time.Second, PurgeDelay: 2 * time.Second,
		RestoreWindow: 3 * time.Second, DualAuthWindow: 4 * time.Second, SyncInterval: 6 * time.Second}, o.cfg.Timing)
	require.Equal(t, 5*time.Millisecond, o.cfg.Faults.Latency)
	require.Equal(t, 0.1, o.cfg.Faults.Rate429)
	require.Equal(t, 0.2, o.cfg.Faults.Rate503)
	require.Equal(t, time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC), o.cfg.Faults.OutageUntil)
	require.Equal(t, "svc", o.cfg.ServiceName)
	require.Equal(t, "eu-de", o.cfg.Region)
	require.Equal(t, slog.LevelDebug, o.logLevel)
}

func TestParseFlags_Errors(t *testing.T) {
	for _, args := range [][]string{
		{"--rate-429", "2"}, {"--outage-from", "yesterday"}, {"--log-level", "loud"}, {"stray"}, {"--nope"},
	} {
		_, err := parseFlags(args)
		require.Error(t, err, "%v", args)
	}
}

func TestParseFlags_OutageFor(t *testing.T) {
	o, err := parseFlags([]string{"--outage-for", "1m"})
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(time.Minute), o.cfg.Faults.OutageUntil, 5*time.Second)
}
