// Command starter is the operator CLI of byokflow: it creates, imports and
// shows root keys, starts the workflows and waits for them, and shows the
// Nodes page from the catalog. Connection settings come from the environment (.run/env of
// `make stack`). Exit codes: 0 success, 1 the operation failed (its typed
// error's message on stderr), 2 usage error.
//
// It starts workflows by their registered names (package contract) and reads
// the catalog read-only; it never runs activities itself. Key material a
// customer imports or rotates in goes from the material file straight to Key
// Protect with the operator's credentials, never into a workflow.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: its name, a one-line summary and its runner.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, app *app, args []string) error
}

var commands = []command{
	{"keys create", "create a root key in Key Protect (operator credentials)", runKeysCreate},
	{"keys import", "import a root key from your own material (secure import with an import token)", runKeysImport},
	{"keys list", "list the root keys, their state and version, and the instances on each", runKeysList},
	{"keys show", "show a root key: state, versions, policies, registrations, instances", runKeysShow},
	{"provision", "provision an encrypted instance and wait until every node reports", runProvision},
	{"rotate", "rotate the instance's root key (an imported one with --material-file) and rewrap every node", runRotate},
	{"status", "show the Nodes page: every node's latest key status", runStatus},
	{"backup", "back up an instance, encrypted under a fresh key wrapped by its root key", runBackup},
	{"restore", "restore a backup into a NEW instance under a root key you name", runRestore},
	{"shred", "crypto-shred an instance: destroy its node keys and root key, with proof", runShred},
	{"approve", "approve a shred waiting for a second operator", runApprove},
	{"sql", "run SQL on an instance's primary (or --node) and print the rows", runSQL},
	{"connect", "print a libpq connection string of an instance's primary, for psql", runConnect},
	{"suspend", "take an instance's keys away: servers stopped, storage locked", runSuspend},
	{"resume", "bring a suspended instance back: keys unwrapped, servers started", runResume},
	{"backups", "list an instance's backups and their key lineage", runBackups},
	{"shred-certificate", "print the shred certificate of a shredded instance", runShredCertificate},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args to a command and maps its error to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := &app{stdout: stdout, stderr: stderr}
	cmd, rest, ok := lookup(args)
	if !ok {
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, app, rest)
	var usageErr usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usageErr):
		fmt.Fprintf(stderr, "usage error: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "error: %v\n", workflowError(err))
		return 1
	}
}

func lookup(args []string) (command, []string, bool) {
	for _, c := range commands {
		n := len(splitWords(c.name))
		if len(args) >= n && joinWords(args[:n]) == c.name {
			return c, args[n:], true
		}
	}
	return command{}, nil, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: starter COMMAND [flags]   (add -h to a command for its flags)")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
}
