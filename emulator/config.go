package emulator

import (
	"log/slog"
	"time"
)

// Config configures a Server. The zero value is a memory-only emulator in
// region us-south for service hyperp-dbaas-postgresql with every timing
// guard off and no faults.
type Config struct {
	// DataDir holds the persistent state; empty keeps everything in memory.
	DataDir string
	// Region is used in key CRNs; default "us-south".
	Region string
	// ServiceName is the DBaaS service name of the development service ID
	// created by SetupDev; default "hyperp-dbaas-postgresql".
	ServiceName string
	// Timing holds the lifecycle guards. Its zero value turns every guard
	// off; use DefaultTiming for the real service's values.
	Timing Timing
	// Faults are injected into every request; see SetFaults.
	Faults Faults
	// Logger receives request and lifecycle logs; nil discards them.
	// Nothing secret is ever logged.
	Logger *slog.Logger
	// Clock replaces time.Now, for tests of expiry; nil means time.Now.
	// The emulator's time is Clock plus the offset Advance adds.
	Clock func() time.Time
	// DevClock serves GET and POST /admin/v1/clock, which read and
	// advance the emulator's clock; without it that path is 404.
	DevClock bool
	// TransportKeyBits is the RSA key size of import tokens; 0 means
	// DefaultTransportKeyBits (4096, as the real service). Tests may
	// choose 2048, which is generated much faster.
	TransportKeyBits int
}

// Timing holds the real service's lifecycle guards. A zero duration turns
// the guard off (no waiting, no window limit).
type Timing struct {
	// EnableDelay is the minimum time between the previous state change
	// and enable, and between delete and restore (REQ_TOO_EARLY_ERR).
	EnableDelay time.Duration
	// RotationInterval is the minimum time between two rotations of a key
	// (KEY_ROTATION_NOT_PERMITTED).
	RotationInterval time.Duration
	// PurgeDelay is the minimum time between delete and purge
	// (REQ_TOO_EARLY_ERR).
	PurgeDelay time.Duration
	// RestoreWindow is how long after deletion a key can be restored
	// (KEY_RESTORE_EXPIRED afterwards).
	RestoreWindow time.Duration
	// DualAuthWindow is how long a setKeyForDeletion authorization lasts.
	DualAuthWindow time.Duration
	// SyncInterval is the minimum time between two syncs of a key's
	// associated resources (REQ_TOO_EARLY_ERR).
	SyncInterval time.Duration
}

// DefaultTiming returns the real service's guards: 30 s before enable or
// restore, one rotation per hour, purge 4 h after deletion, restore within
// 30 days, a 7-day dual-authorization window, and one sync per hour.
func DefaultTiming() Timing {
	return Timing{
		EnableDelay:      30 * time.Second,
		RotationInterval: time.Hour,
		PurgeDelay:       4 * time.Hour,
		RestoreWindow:    30 * 24 * time.Hour,
		DualAuthWindow:   7 * 24 * time.Hour,
		SyncInterval:     time.Hour,
	}
}

// Faults describes injected failures. Every request first waits Latency,
// then is answered 503 while the outage window is open, otherwise 429 with
// probability Rate429 or 503 with probability Rate503. Fault answers carry
// the error shape of the API that was called and Retry-After: 1.
type Faults struct {
	Latency     time.Duration
	Rate429     float64
	Rate503     float64
	OutageFrom  time.Time // zero: open since forever (when OutageUntil is set)
	OutageUntil time.Time // zero: no outage
}

// OutageFor returns f with an outage window from now for d.
func (f Faults) OutageFor(now time.Time, d time.Duration) Faults {
	f.OutageFrom = now
	f.OutageUntil = now.Add(d)
	return f
}

// inOutage reports whether t lies in the outage window.
func (f Faults) inOutage(t time.Time) bool {
	if f.OutageUntil.IsZero() || !t.Before(f.OutageUntil) {
		return false
	}
	return f.OutageFrom.IsZero() || !t.Before(f.OutageFrom)
}

const (
	defaultRegion      = "us-south"
	defaultServiceName = "hyperp-dbaas-postgresql"
)

func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = defaultRegion
	}
	if c.ServiceName == "" {
		c.ServiceName = defaultServiceName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.TransportKeyBits == 0 {
		c.TransportKeyBits = DefaultTransportKeyBits
	}
	return c
}
