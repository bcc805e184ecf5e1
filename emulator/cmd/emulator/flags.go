package main

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/byokflow/byokflow/emulator"
)

// options are the parsed command line.
type options struct {
	addr      string
	publicURL string
	dev       bool
	logLevel  slog.Level
	cfg       emulator.Config
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8444", "listen address HOST:PORT (port 0 picks a free one)")
	fs.StringVar(&o.cfg.DataDir, "data", "", "data directory; empty keeps all state in memory")
	fs.StringVar(&o.publicURL, "public-url", "", "base URL clients use, in the --dev export lines (default: http:// and the listen address)")
	fs.BoolVar(&o.dev, "dev", false, "create the fixed development account, print its export lines and serve /admin/v1/clock")
	fs.StringVar(&o.cfg.Region, "region", "us-south", "region used in key CRNs")
	fs.StringVar(&o.cfg.ServiceName, "service-name", "hyperp-dbaas-postgresql", "service name of the development service ID")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	timingFlags(fs, &o.cfg.Timing)
	outage := faultFlags(fs, &o.cfg.Faults)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	o.cfg.DevClock = o.dev // the stack's tests make time pass; never outside --dev
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	if err := outage.apply(&o.cfg.Faults); err != nil {
		return nil, err
	}
	return o, nil
}

func timingFlags(fs *flag.FlagSet, t *emulator.Timing) {
	d := emulator.DefaultTiming()
	fs.DurationVar(&t.EnableDelay, "enable-delay", d.EnableDelay, "minimum wait before enable or restore (0 disables)")
	fs.DurationVar(&t.RotationInterval, "rotation-interval", d.RotationInterval, "minimum time between rotations of a key (0 disables)")
	fs.DurationVar(&t.PurgeDelay, "purge-delay", d.PurgeDelay, "minimum time between delete and purge (0 disables)")
	fs.DurationVar(&t.RestoreWindow, "restore-window", d.RestoreWindow, "how long a deleted key stays restorable (0: forever)")
	fs.DurationVar(&t.DualAuthWindow, "dual-auth-window", d.DualAuthWindow, "how long a setKeyForDeletion authorization lasts (0: forever)")
	fs.DurationVar(&t.SyncInterval, "sync-interval", d.SyncInterval, "minimum time between syncs of a key's associated resources (0 disables)")
}

// outageFlags holds the outage flags until the clock can be read.
type outageFlags struct {
	from, until string
	forDur      time.Duration
}

func faultFlags(fs *flag.FlagSet, f *emulator.Faults) *outageFlags {
	o := &outageFlags{}
	fs.DurationVar(&f.Latency, "latency", 0, "added latency per request")
	fs.Float64Var(&f.Rate429, "rate-429", 0, "fraction of requests answered 429 (0..1)")
	fs.Float64Var(&f.Rate503, "rate-503", 0, "fraction of requests answered 503 (0..1)")
	fs.StringVar(&o.from, "outage-from", "", "start of an outage window, RFC 3339")
	fs.StringVar(&o.until, "outage-until", "", "end of an outage window, RFC 3339")
	fs.DurationVar(&o.forDur, "outage-for", 0, "an outage from start-up for this long")
	return o
}

func (o *outageFlags) apply(f *emulator.Faults) error {
	if f.Rate429 < 0 || f.Rate429 > 1 || f.Rate503 < 0 || f.Rate503 > 1 {
		return fmt.Errorf("--rate-429 and --rate-503 must lie between 0 and 1")
	}
	if o.forDur > 0 {
		*f = f.OutageFor(time.Now(), o.forDur)
		return nil
	}
	for _, p := range []struct {
		name string
		val  string
		dst  *time.Time
	}{{"--outage-from", o.from, &f.OutageFrom}, {"--outage-until", o.until, &f.OutageUntil}} {
		if p.val == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.val)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		*p.dst = t
	}
	return nil
}
