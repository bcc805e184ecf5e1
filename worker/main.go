// Command worker runs byokflow's Temporal workers. It is the composition
// root, and so the table of contents of what runs where:
//
//	worker                                  the control plane: every workflow
//	                                        (package workflows) and the
//	                                        control-plane activities (package
//	                                        activities) on contract.ControlTaskQueue
//	worker node --host NAME --data-dir DIR --storage DIR
//	                                        a node agent (package node) serving
//	                                        the node activities of every
//	                                        database node placed on host NAME
//	                                        and running their PostgreSQL servers
//	                                        on the encrypted storage DIR
//	worker codec-server [--addr A]          the payload codec for the Web UI and the
//	                                        Temporal CLI (package internal/codecserver)
//	worker codec-key rotate                 add a codec key to the keyring
//	                                        (package internal/codec)
//
// Every client above seals its payloads and failures with the payload
// codec of BYOK_CODEC_KEYRING (package internal/codec).
//
// Settings come from the environment (design.md section 7; `.run/env` of
// `make stack`). It logs to stderr, and logs "ready" once it polls its queue.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "node":
		err = runNode(ctx, logger, os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "codec-server":
		err = runCodecServer(ctx, logger, os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "codec-key":
		err = runCodecKey(ctx, logger, os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] != "control":
		fmt.Fprintln(os.Stderr, "usage: worker [control] | worker node --host NAME --data-dir DIR --storage DIR | "+
			"worker codec-server | worker codec-key rotate")
		os.Exit(2)
	default:
		err = runControl(ctx, logger)
	}
	if err != nil {
		logger.Error("worker stopped", "error", err)
		os.Exit(1)
	}
}
