package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/byokflow/byokflow/contract"
)

// app carries what every command writes to.
type app struct {
	stdout, stderr io.Writer
	webUI          string // the Web UI page of the workflow the command ran
}

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

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

// newFlags returns a flag set whose errors become usage errors.
func newFlags(app *app, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(app.stderr)
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
			return usagef("%s: help requested", fs.Name())
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	for name, v := range required {
		if *v == "" {
			return usagef("%s: --%s is required", fs.Name(), name)
		}
	}
	return nil
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
