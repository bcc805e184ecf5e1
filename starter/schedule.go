package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

// scheduleSpec is what every `starter schedule KIND` command takes: when
// the schedule fires and how it treats late and overlapping runs.
type scheduleSpec struct {
	every, jitter, catchup time.Duration
	cron                   string
	asJSON                 bool
}

// scheduleFlags adds the flags of scheduleSpec, every defaulting to every.
func scheduleFlags(fs *flag.FlagSet, every time.Duration) *scheduleSpec {
	s := &scheduleSpec{}
	fs.DurationVar(&s.every, "every", every, "run every this long (e.g. 2160h, 24h, 1m)")
	fs.StringVar(&s.cron, "cron", "", "run on this cron expression instead of --every (e.g. \"0 3 * * *\")")
	fs.DurationVar(&s.jitter, "jitter", -1, "delay each run by a random time up to this (default: a tenth of --every, at most 10m)")
	fs.DurationVar(&s.catchup, "catchup-window", time.Hour, "after an outage of Temporal, still run a missed run this late")
	fs.BoolVar(&s.asJSON, "json", false, "print one JSON document")
	return s
}

// check refuses what Temporal would: no interval under a second, no
// negative windows.
func (s *scheduleSpec) check(cmd string) error {
	if s.cron == "" && s.every < time.Second {
		return usagef("%s: --every %s: give at least 1s, or --cron", cmd, s.every)
	}
	if s.catchup < 10*time.Second {
		return usagef("%s: --catchup-window %s: give at least 10s", cmd, s.catchup)
	}
	if s.jitter < 0 {
		s.jitter = min(s.every/10, 10*time.Minute)
	}
	return nil
}

// spec is the Temporal schedule spec.
func (s *scheduleSpec) spec() client.ScheduleSpec {
	if s.cron != "" {
		return client.ScheduleSpec{CronExpressions: []string{s.cron}, Jitter: s.jitter}
	}
	return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.every}}, Jitter: s.jitter}
}

// scheduleTarget is what one schedule runs: its id, workflow and input,
// and the search attributes of the schedule and of every run.
type scheduleTarget struct {
	id, workflow, note            string
	instanceID, rootKeyID, opAttr string
	input                         any
}

// scheduleOutput is the JSON document of a `starter schedule KIND` command.
type scheduleOutput struct {
	ScheduleID string `json:"scheduleId"`
	Workflow   string `json:"workflow"`
	Created    bool   `json:"created"` // false: an existing schedule was updated
	Spec       string `json:"spec"`
}

// options are the Temporal schedule options: overlap Skip (a run still
// going makes the next one skip), the catch-up window, pause on failure,
// jitter, and the search attributes on the schedule and its action.
func (t scheduleTarget) options(s *scheduleSpec) client.ScheduleOptions {
	attrs := temporal.NewSearchAttributes(searchAttributes(t.instanceID, t.rootKeyID, t.opAttr)...)
	return client.ScheduleOptions{
		ID:   t.id,
		Spec: s.spec(),
		Action: &client.ScheduleWorkflowAction{ID: t.id, Workflow: t.workflow, Args: []any{t.input},
			TaskQueue: contract.ControlTaskQueue, TypedSearchAttributes: attrs},
		Overlap:               enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow:         s.catchup,
		PauseOnFailure:        true,
		Note:                  t.note,
		TypedSearchAttributes: attrs,
	}
}

// createOrUpdate creates the schedule, or updates the one of the same id
// to the new spec and action (so running a command again, or `make
// stack`, converges rather than fails).
func (a *app) createOrUpdate(ctx context.Context, t scheduleTarget, s *scheduleSpec) error {
	c, err := dialTemporal(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	opts := t.options(s)
	out := scheduleOutput{ScheduleID: t.id, Workflow: t.workflow, Created: true, Spec: specText(opts.Spec)}
	_, err = c.ScheduleClient().Create(ctx, opts)
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		out.Created = false
		err = c.ScheduleClient().GetHandle(ctx, t.id).Update(ctx, client.ScheduleUpdateOptions{
			DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				sch := in.Description.Schedule
				sch.Spec, sch.Action = &opts.Spec, opts.Action
				sch.Policy = &client.SchedulePolicies{Overlap: opts.Overlap, CatchupWindow: opts.CatchupWindow,
					PauseOnFailure: opts.PauseOnFailure}
				return &client.ScheduleUpdate{Schedule: &sch, TypedSearchAttributes: &opts.TypedSearchAttributes}, nil
			}})
	}
	if err != nil {
		return fmt.Errorf("create schedule %s: %w: check that the Temporal server at TEMPORAL_ADDRESS runs (`make stack`)", t.id, err)
	}
	a.webUI = scheduleLink(t.id)
	if s.asJSON {
		return a.printJSON(out)
	}
	verb := "created"
	if !out.Created {
		verb = "updated"
	}
	fmt.Fprintf(a.stdout, "%s schedule %s: %s %s (overlap skip, pause on failure); `starter schedule describe %s`\n",
		verb, t.id, t.workflow, out.Spec, t.id)
	return nil
}

// specText describes a spec in one phrase.
func specText(s client.ScheduleSpec) string {
	text := ""
	for _, c := range s.CronExpressions {
		text += "cron " + c + " "
	}
	for _, i := range s.Intervals {
		text += "every " + i.Every.String() + " "
	}
	if s.Jitter > 0 {
		text += "jitter " + s.Jitter.String()
	}
	return text
}

func runScheduleRotate(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "schedule rotate")
	in := contract.FleetRotateInput{RequestedBy: requester()}
	var instance string
	fs.StringVar(&instance, "instance", "", "rotate this instance")
	fs.StringVar(&in.RootKeyID, "root-key", "", "rotate every live instance on this root key")
	fs.BoolVar(&in.All, "all", false, "rotate every live instance")
	fs.IntVar(&in.Parallel, "parallel", contract.DefaultFleetParallel, "rotate at most this many instances at once")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for a node agent that is down")
	s := scheduleFlags(fs, 2160*time.Hour)
	if err := parse(fs, args, nil); err != nil {
		return err
	}
	if instance != "" {
		in.InstanceIDs = []string{instance}
	}
	if err := in.WithDefaults().Validate(); err != nil {
		return usagef("schedule rotate: %v (--instance, --root-key or --all)", err)
	}
	if err := s.check("schedule rotate"); err != nil {
		return err
	}
	t := scheduleTarget{workflow: contract.WorkflowFleetRotate, opAttr: contract.OperationFleetRotate, input: in}
	t.instanceID, t.rootKeyID = in.Target()
	switch {
	case instance != "":
		t.id, t.note = "schedule-rotate-"+instance, "rotate the root key of instance "+instance
	case in.RootKeyID != "":
		t.id, t.note = "schedule-rotate-key-"+in.RootKeyID, "rotate every live instance on root key "+in.RootKeyID
	default:
		t.id, t.note = "schedule-rotate-all", "rotate every live instance"
	}
	return a.createOrUpdate(ctx, t, s)
}

func runScheduleBackup(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "schedule backup")
	in := contract.ScheduledBackupInput{RequestedBy: requester()}
	fs.StringVar(&in.InstanceID, "instance", "", "back up this instance (required)")
	durationVar(fs, &in.Keep, "keep", 0, "prune backups older than this after each backup (e.g. 168h); 0 keeps all")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for a node agent that is down")
	s := scheduleFlags(fs, 24*time.Hour)
	if err := parse(fs, args, map[string]*string{"instance": &in.InstanceID}); err != nil {
		return err
	}
	if err := in.WithDefaults().Validate(); err != nil {
		return usagef("schedule backup: %v", err)
	}
	if err := s.check("schedule backup"); err != nil {
		return err
	}
	note := "back up instance " + in.InstanceID
	if in.Keep > 0 {
		note += ", keep " + in.Keep.String()
	}
	return a.createOrUpdate(ctx, scheduleTarget{id: "schedule-backup-" + in.InstanceID, workflow: contract.WorkflowScheduledBackup,
		note: note, instanceID: in.InstanceID, opAttr: contract.OperationScheduledBackup, input: in}, s)
}

func runScheduleReconcile(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "schedule reconcile")
	s := scheduleFlags(fs, time.Minute)
	in := contract.ReconcileInput{RequestedBy: requester()}
	durationVar(fs, &in.Grace, "grace", contract.DefaultReconcileGrace,
		"how long nodes keep serving while Key Protect does not answer before the reconciliation raises it (it never suspends on that)")
	if err := parse(fs, args, nil); err != nil {
		return err
	}
	if err := s.check("schedule reconcile"); err != nil {
		return err
	}
	if err := in.WithDefaults().Validate(); err != nil {
		return usagef("schedule reconcile: %v", err)
	}
	return a.createOrUpdate(ctx, scheduleTarget{id: "schedule-reconcile", workflow: contract.WorkflowReconcileKeys,
		note: "reconcile every root key in use with Key Protect", instanceID: contract.FleetTargetAll,
		rootKeyID: contract.FleetTargetAll, opAttr: contract.OperationReconcile, input: in}, s)
}
