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
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand: its name, a one-line summary, an example of
// its use (shown by -h) and its runner.
type command struct {
	name    string
	summary string
	example string
	run     func(ctx context.Context, app *app, args []string) error
}

var commands = []command{
	{"keys create", "create a root key in Key Protect (operator credentials)",
		"starter keys create --name my-root --json", runKeysCreate},
	{"keys import", "import a root key from your own material (secure import with an import token)",
		"starter keys import --name my-byok-root --material-file root.key", runKeysImport},
	{"keys list", "list the root keys, their state and version, and the instances on each",
		"starter keys list", runKeysList},
	{"keys show", "show a root key: state, versions, policies, registrations, instances",
		"starter keys show --root-key KEY-ID", runKeysShow},
	{"keys policy", "set Key Protect's own rotation policy of a root key (0 months disables it)",
		"starter keys policy --root-key KEY-ID --rotation-months 3", runKeysPolicy},
	{"provision", "provision an encrypted instance and wait until every node reports",
		"starter provision --instance orders --root-key KEY-ID --create-authorization", runProvision},
	{"rotate", "rotate the instance's root key (an imported one with --material-file) and rewrap every node",
		"starter rotate --instance orders", runRotate},
	{"status", "show the Nodes page: every node's latest key status",
		"starter status --instance orders", runStatus},
	{"backup", "back up an instance, encrypted under a fresh key wrapped by its root key",
		"starter backup --instance orders --json", runBackup},
	{"restore", "restore a backup into a NEW instance under a root key you name",
		"starter restore --backup BACKUP-ID --instance orders-copy --root-key KEY-ID", runRestore},
	{"shred", "crypto-shred an instance: destroy its node keys and root key, with proof",
		"starter shred --instance orders --include-backups", runShred},
	{"approve", "approve a shred waiting for a second operator",
		"starter approve --workflow shred-orders", runApprove},
	{"sql", "run SQL on an instance's primary (or --node) and print the rows",
		"starter sql --instance orders -c 'select count(*) from t'", runSQL},
	{"connect", "print a libpq connection string of an instance's primary, for psql",
		"psql \"$(starter connect --instance orders)\"", runConnect},
	{"suspend", "take an instance's keys away: servers stopped, storage locked",
		"starter suspend --instance orders --reason 'key compromise drill'", runSuspend},
	{"resume", "bring a suspended instance back: keys unwrapped, servers started",
		"starter resume --instance orders", runResume},
	{"backups", "list an instance's backups and their key lineage",
		"starter backups --instance orders", runBackups},
	{"shred-certificate", "print the shred certificate of a shredded instance",
		"starter shred-certificate --instance orders", runShredCertificate},
	{"schedules", "list the schedules (rotation, backup, reconciliation) and their next runs",
		"starter schedules", runSchedules},
	{"schedule rotate", "schedule root key rotation of an instance, a root key's instances or all (FleetRotate)",
		"starter schedule rotate --instance orders --every 2160h", runScheduleRotate},
	{"schedule backup", "schedule backups of an instance, pruning those older than --keep",
		"starter schedule backup --instance orders --every 24h --keep 168h", runScheduleBackup},
	{"schedule reconcile", "schedule the reconciliation of every root key in use with Key Protect",
		"starter schedule reconcile --every 1m", runScheduleReconcile},
	{"schedule describe", "show a schedule: spec, policies, next and recent runs",
		"starter schedule describe schedule-rotate-orders", runScheduleDescribe},
	{"schedule pause", "pause a schedule", "starter schedule pause schedule-rotate-orders --note 'change freeze'", runSchedulePause},
	{"schedule unpause", "unpause a schedule", "starter schedule unpause schedule-rotate-orders", runScheduleUnpause},
	{"schedule trigger", "run a schedule's workflow now", "starter schedule trigger schedule-backup-orders", runScheduleTrigger},
	{"schedule delete", "delete a schedule", "starter schedule delete schedule-rotate-orders", runScheduleDelete},
	{"audit", "show an instance's audit beside Key Protect's record of the same calls",
		"starter audit --instance orders --json", runAudit},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args to a command and maps its error to an exit code:
// help (-h, --help, help) prints the usage on stdout and exits 0; an
// unknown command or flag prints it on stderr and exits 2.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	if len(args) > 0 && isHelp(args[len(args)-1]) && !isCommand(args) { // starter -h, starter keys --help
		usage(stdout)
		return 0
	}
	cmd, rest, ok := lookup(args)
	if !ok {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "usage error: unknown command %q\n", strings.Join(args, " "))
		}
		usage(stderr)
		return 2
	}
	a.cmd = cmd
	err := cmd.run(ctx, a, rest)
	var usageErr usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		cmd.usage(stdout, a.flags)
		return 0
	case errors.As(err, &usageErr):
		fmt.Fprintf(stderr, "usage error: %v\n", err)
		if usageErr.flags {
			cmd.usage(stderr, a.flags)
		} else {
			fmt.Fprintf(stderr, "run `starter %s -h` for its flags and an example\n", cmd.name)
		}
		return 2
	default:
		fmt.Fprintf(stderr, "error: %v\n", withNextStep(workflowError(typedKPError(err))))
		return 1
	}
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func isCommand(args []string) bool {
	_, _, ok := lookup(args)
	return ok
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
	fmt.Fprintln(w, "usage: starter COMMAND [flags]")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "example:\n  starter provision --instance orders --root-key KEY-ID --create-authorization")
	fmt.Fprintln(w, "run `starter COMMAND -h` for a command's flags and an example; settings come from the environment (`. .run/env`)")
}

// usage prints the command's usage: summary, flags and example.
func (c command) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: starter %s [flags]\n  %s\n", c.name, c.summary)
	if fs != nil {
		fmt.Fprintln(w, "flags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	fmt.Fprintf(w, "example:\n  %s\n", c.example)
}
