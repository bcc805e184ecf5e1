package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"
)

// scheduleLink is the Web UI page of a schedule.
func scheduleLink(id string) string {
	base := strings.TrimRight(os.Getenv("BYOK_UI_URL"), "/")
	if base == "" {
		return ""
	}
	ns := cmp.Or(os.Getenv("TEMPORAL_NAMESPACE"), "default")
	return base + "/namespaces/" + url.PathEscape(ns) + "/schedules/" + url.PathEscape(id)
}

// scheduleRow is one schedule of `starter schedules` and `schedule describe`.
type scheduleRow struct {
	ScheduleID    string      `json:"scheduleId"`
	Workflow      string      `json:"workflow"`
	Spec          string      `json:"spec"`
	Paused        bool        `json:"paused"`
	Note          string      `json:"note"`
	NextRuns      []string    `json:"nextRuns"`
	RecentRuns    []recentRun `json:"recentRuns"`
	Actions       int         `json:"actions,omitempty"`
	Overlap       string      `json:"overlap,omitempty"`
	CatchupWindow string      `json:"catchupWindow,omitempty"`
	PauseOnFail   bool        `json:"pauseOnFailure,omitempty"`
	Running       []string    `json:"running,omitempty"`
}

// recentRun is one run a schedule started.
type recentRun struct {
	At         string `json:"at"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
}

func times(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = rfc3339(t)
	}
	return out
}

func recent(rs []client.ScheduleActionResult) []recentRun {
	out := make([]recentRun, 0, len(rs))
	for _, r := range rs {
		run := recentRun{At: rfc3339(r.ActualTime)}
		if r.StartWorkflowResult != nil {
			run.WorkflowID, run.RunID = r.StartWorkflowResult.WorkflowID, r.StartWorkflowResult.FirstExecutionRunID
		}
		out = append(out, run)
	}
	return out
}

// runSchedules lists every schedule of the namespace.
func runSchedules(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "schedules")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, nil); err != nil {
		return err
	}
	c, err := dialTemporal(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 100})
	if err != nil {
		return fmt.Errorf("list schedules: %w: check that the Temporal server at TEMPORAL_ADDRESS runs (`make stack`)", err)
	}
	rows := []scheduleRow{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return fmt.Errorf("list schedules: %w", err)
		}
		row := scheduleRow{ScheduleID: e.ID, Workflow: e.WorkflowType.Name, Paused: e.Paused, Note: e.Note,
			NextRuns: times(e.NextActionTimes), RecentRuns: recent(e.RecentActions)}
		if e.Spec != nil {
			row.Spec = specText(*e.Spec)
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(x, y scheduleRow) int { return strings.Compare(x.ScheduleID, y.ScheduleID) })
	if *asJSON {
		return a.printJSON(rows)
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEDULE\tWORKFLOW\tSPEC\tPAUSED\tNEXT RUN\tLAST RUN")
	for _, r := range rows {
		next, last := "-", "-"
		if len(r.NextRuns) > 0 {
			next = r.NextRuns[0]
		}
		if len(r.RecentRuns) > 0 {
			last = r.RecentRuns[len(r.RecentRuns)-1].WorkflowID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", r.ScheduleID, r.Workflow, r.Spec, r.Paused, next, last)
	}
	return tw.Flush()
}

// parseScheduleID parses `starter schedule VERB ID [flags]` (the id may
// come before or after the flags).
func parseScheduleID(fs *flag.FlagSet, args []string) (string, error) {
	var id string
	rest := make([]string, 0, len(args))
	for _, arg := range args {
		if id == "" && !strings.HasPrefix(arg, "-") {
			id = arg
			continue
		}
		rest = append(rest, arg)
	}
	if err := parse(fs, rest, nil); err != nil {
		return "", err
	}
	if id == "" {
		return "", usagef("%s: give the schedule id, as `starter schedules` lists it", fs.Name())
	}
	return id, nil
}

// scheduleHandle parses the id and dials Temporal.
func scheduleHandle(ctx context.Context, fs *flag.FlagSet, args []string) (client.ScheduleHandle, func(), error) {
	id, err := parseScheduleID(fs, args)
	if err != nil {
		return nil, nil, err
	}
	c, err := dialTemporal(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c.ScheduleClient().GetHandle(ctx, id), c.Close, nil
}

func runScheduleDescribe(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "schedule describe")
	asJSON := fs.Bool("json", false, "print one JSON document")
	h, done, err := scheduleHandle(ctx, fs, args)
	if err != nil {
		return err
	}
	defer done()
	d, err := h.Describe(ctx)
	if err != nil {
		return fmt.Errorf("describe schedule %s: %w", h.GetID(), err)
	}
	row := describeRow(h.GetID(), d)
	a.webUI = scheduleLink(h.GetID())
	if *asJSON {
		return a.printJSON(row)
	}
	fmt.Fprintf(a.stdout, "schedule %s: %s %s\n  note: %s\n  paused: %t   runs so far: %d   overlap: %s   catch-up window: %s   pause on failure: %t\n",
		row.ScheduleID, row.Workflow, row.Spec, row.Note, row.Paused, row.Actions, row.Overlap, row.CatchupWindow, row.PauseOnFail)
	fmt.Fprintf(a.stdout, "  next runs: %s\n", strings.Join(row.NextRuns, ", "))
	for _, r := range row.RecentRuns {
		fmt.Fprintf(a.stdout, "  ran %s: workflow %s\n", r.At, r.WorkflowID)
	}
	for _, id := range row.Running {
		fmt.Fprintf(a.stdout, "  running: workflow %s\n", id)
	}
	return nil
}

// describeRow is the schedule as describe shows it.
func describeRow(id string, d *client.ScheduleDescription) scheduleRow {
	row := scheduleRow{ScheduleID: id, Actions: d.Info.NumActions, NextRuns: times(d.Info.NextActionTimes),
		RecentRuns: recent(d.Info.RecentActions)}
	if act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
		row.Workflow, _ = act.Workflow.(string)
	}
	if d.Schedule.Spec != nil {
		row.Spec = specText(*d.Schedule.Spec)
	}
	if st := d.Schedule.State; st != nil {
		row.Paused, row.Note = st.Paused, st.Note
	}
	if p := d.Schedule.Policy; p != nil {
		row.Overlap = strings.ToLower(strings.TrimPrefix(p.Overlap.String(), "SCHEDULE_OVERLAP_POLICY_"))
		row.CatchupWindow, row.PauseOnFail = p.CatchupWindow.String(), p.PauseOnFailure
	}
	for _, w := range d.Info.RunningWorkflows {
		row.Running = append(row.Running, w.WorkflowID)
	}
	return row
}

// scheduleVerb runs one change of a schedule (pause, unpause, trigger,
// delete) and says what it did.
func scheduleVerb(ctx context.Context, a *app, args []string, name, did string,
	do func(ctx context.Context, h client.ScheduleHandle, note string) error) error {
	fs := newFlags(a, "schedule "+name)
	note := fs.String("note", "", "why (kept with the schedule, shown by describe)")
	h, done, err := scheduleHandle(ctx, fs, args)
	if err != nil {
		return err
	}
	defer done()
	if err := do(ctx, h, cmp.Or(*note, name+"d by "+requester()+" with starter")); err != nil {
		return fmt.Errorf("%s schedule %s: %w: check the id with `starter schedules`", name, h.GetID(), err)
	}
	fmt.Fprintf(a.stdout, "schedule %s %s\n", h.GetID(), did)
	return nil
}

func runSchedulePause(ctx context.Context, a *app, args []string) error {
	return scheduleVerb(ctx, a, args, "pause", "paused: no run starts until `starter schedule unpause`",
		func(ctx context.Context, h client.ScheduleHandle, note string) error {
			return h.Pause(ctx, client.SchedulePauseOptions{Note: note})
		})
}

func runScheduleUnpause(ctx context.Context, a *app, args []string) error {
	return scheduleVerb(ctx, a, args, "unpause", "unpaused",
		func(ctx context.Context, h client.ScheduleHandle, note string) error {
			return h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: note})
		})
}

func runScheduleTrigger(ctx context.Context, a *app, args []string) error {
	return scheduleVerb(ctx, a, args, "trigger", "triggered: a run starts now (skipped if one is still running)",
		func(ctx context.Context, h client.ScheduleHandle, _ string) error {
			return h.Trigger(ctx, client.ScheduleTriggerOptions{})
		})
}

func runScheduleDelete(ctx context.Context, a *app, args []string) error {
	return scheduleVerb(ctx, a, args, "delete", "deleted (runs it started keep running to their end)",
		func(ctx context.Context, h client.ScheduleHandle, _ string) error { return h.Delete(ctx) })
}
