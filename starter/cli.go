package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// app carries what every command writes to.
type app struct {
	stdout, stderr io.Writer
	webUI          string // the Web UI page of the workflow the command ran
	cmd            command
	flags          *flag.FlagSet // the command's flags, for its usage
}

// usageError marks a mistake in how the command was called (exit code 2);
// flags says the command line itself did not parse, so the usage follows.
type usageError struct {
	msg   string
	flags bool
}

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned by parse for -h or --help: run prints the usage and
// exits 0.
var errHelp = errors.New("help requested")

func splitWords(s string) []string { return strings.Fields(s) }
func joinWords(w []string) string  { return strings.Join(w, " ") }
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// newFlags returns the command's flag set; parse turns its errors into
// usage errors, and run prints the usage, so the flag package prints
// nothing itself.
func newFlags(app *app, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	app.flags = fs
	return fs
}

// durationVar is fs.DurationVar for a duration field of a workflow input.
func durationVar(fs *flag.FlagSet, p *contract.Duration, name string, value time.Duration, usage string) {
	fs.DurationVar((*time.Duration)(p), name, value, usage)
}

// parse parses args and turns flag errors, stray arguments and missing
// required flags into usage errors.
func parse(fs *flag.FlagSet, args []string, required map[string]*string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{msg: fmt.Sprintf("%s: %v", fs.Name(), err), flags: true}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0)), flags: true}
	}
	for name, v := range required {
		if *v == "" {
			return usagef("%s: --%s is required", fs.Name(), name)
		}
	}
	return nil
}

// withNextStep adds what to do next to the errors whose message cannot
// know it (typed workflow errors and the starter's own say it already).
func withNextStep(err error) error {
	var notFound *serviceerror.NotFound
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		return fmt.Errorf("%w: check the name; `starter keys list` shows the instances on each root key, "+
			"`starter backups --instance NAME` an instance's backups", err)
	case errors.As(err, &notFound):
		return fmt.Errorf("%w: check the workflow id (the command that started it printed it; the Web UI "+
			"lists them, filter ByokInstanceID=\"NAME\")", err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: interrupted; a workflow the command started keeps running: run the same "+
			"command again to wait for it, or watch it in the Web UI", err)
	}
	return err
}

// printJSON writes v as one indented JSON document, with the Web UI page
// of the workflow the command ran ("webUi").
func (a *app) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, withWebUI(b, a.webUI), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = a.stdout.Write(out.Bytes())
	return err
}
