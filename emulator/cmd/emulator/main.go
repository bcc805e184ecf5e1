// Command emulator serves the byokflow Key Protect + IAM emulator on one
// HTTP address. With --dev it first creates the fixed development account
// and prints the export lines that point byokflow at it; logs go to
// stderr. See emulator/README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/byokflow/byokflow/emulator"
)

func main() {
	// Signals are caught from the start: a supervisor may stop the emulator
	// as soon as it has read the --dev export lines, before it serves.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: opts.logLevel}))
	opts.cfg.Logger = log
	srv, err := emulator.New(opts.cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.addr, err)
	}
	base := "http://" + ln.Addr().String()
	if opts.publicURL != "" {
		base = opts.publicURL // behind a port mapping, as in docker-compose.yml
	}
	if opts.dev {
		if err := printDev(srv, base); err != nil {
			ln.Close()
			return err
		}
	}
	log.Info("emulator serving", "url", base, "data_dir", opts.cfg.DataDir, "dev", opts.dev)
	return serve(ctx, srv, ln, log)
}

// printDev sets up the development account and prints its export lines
// before anything is served.
func printDev(srv *emulator.Server, base string) error {
	dev, err := srv.SetupDev()
	if err != nil {
		return err
	}
	for _, line := range dev.ExportLines(base) {
		fmt.Println(line)
	}
	return nil
}

// serve runs until ctx is done (SIGINT or SIGTERM), then shuts down gracefully.
func serve(ctx context.Context, srv *emulator.Server, ln net.Listener, log *slog.Logger) error {
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
