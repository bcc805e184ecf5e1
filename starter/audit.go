package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/ibmenv"
)

// auditOutput is the JSON document of `starter audit --json`: the
// instance's audit, one run per workflow run (correlation id), each with
// byokflow's events and Key Protect's record of the calls that carried
// the same correlation id.
type auditOutput struct {
	Instance   string     `json:"instance"`
	KPInstance string     `json:"kpInstance"`
	Runs       []auditRun `json:"runs"`
}

type auditRun struct {
	CorrelationID string       `json:"correlationId"` // "" for events made outside a workflow run
	WorkflowID    string       `json:"workflowId"`
	Byokflow      []auditEvent `json:"byokflow"`
	KeyProtect    []kpRecord   `json:"keyProtect"`
	// Unconfirmed counts byokflow's Key Protect calls that Key Protect's
	// record does not show: 0 when the two records agree.
	Unconfirmed int `json:"unconfirmed"`
}

type auditEvent struct {
	At        string          `json:"at"`
	Actor     string          `json:"actor"`
	Operation string          `json:"operation"`
	IAMID     string          `json:"iamId,omitempty"`
	RootKeyID string          `json:"rootKeyId,omitempty"`
	Detail    json.RawMessage `json:"detail"`
	// InKeyProtect says, for an event of a Key Protect call ("kp.ACTION"),
	// whether Key Protect's record shows that call: same action, key, IAM
	// id and outcome under the run's correlation id.
	InKeyProtect *bool `json:"inKeyProtect,omitempty"`
}

// kpCallPrefix starts the operation of an audit event that records a Key
// Protect call; the rest is Key Protect's action name.
const kpCallPrefix = "kp."

func runAudit(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "audit")
	instance := fs.String("instance", "", "name of the instance (required)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": instance}); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(*instance); err != nil {
		return usagef("audit: %v", err)
	}
	out, err := readAudit(ctx, *instance)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(out)
	}
	printAudit(a.stdout, out)
	return nil
}

// readAudit reads the instance's audit from the catalog and, for every
// workflow run in it, Key Protect's record of the same correlation id.
func readAudit(ctx context.Context, instance string) (auditOutput, error) {
	cat, err := openCatalog(ctx)
	if err != nil {
		return auditOutput{}, err
	}
	defer cat.Close()
	inst, err := getInstance(ctx, cat, instance)
	if err != nil {
		return auditOutput{}, fmt.Errorf("show audit of instance %s: %w", instance, err)
	}
	events, err := cat.ListAuditOfRuns(ctx, instance)
	if err != nil {
		return auditOutput{}, fmt.Errorf("show audit of instance %s: %w", instance, err)
	}
	kpa, err := newKPActivity(ibmenv.Read(nil).ForKPInstance(inst.KPInstanceID))
	if err != nil {
		return auditOutput{}, err
	}
	out := auditOutput{Instance: instance, KPInstance: inst.KPInstanceID, Runs: []auditRun{}}
	for _, run := range groupRuns(events) {
		var records []kpRecord
		if run.CorrelationID != "" {
			if records, err = kpa.records(ctx, run.CorrelationID); err != nil {
				return out, err
			}
		}
		out.Runs = append(out.Runs, matchRun(run, records))
	}
	return out, nil
}

// groupRuns groups events by correlation id, in the order each run first
// appears; events without one (made before correlation ids, or outside a
// workflow) form one run of their own.
func groupRuns(events []catalog.AuditEvent) []auditRun {
	var runs []auditRun
	index := map[string]int{}
	for _, e := range events {
		i, ok := index[e.CorrelationID]
		if !ok {
			i = len(runs)
			index[e.CorrelationID] = i
			runs = append(runs, auditRun{CorrelationID: e.CorrelationID, WorkflowID: e.WorkflowID})
		}
		runs[i].Byokflow = append(runs[i].Byokflow, auditEvent{At: rfc3339(e.At), Actor: e.Actor,
			Operation: e.Operation, IAMID: e.IAMID, RootKeyID: e.RootKeyID, Detail: e.Detail})
	}
	return runs
}

// matchRun adds Key Protect's records to run and marks each of byokflow's
// Key Protect calls found in them; each record confirms one call.
func matchRun(run auditRun, records []kpRecord) auditRun {
	run.KeyProtect = append([]kpRecord{}, records...)
	used := make([]bool, len(records))
	for i := range run.Byokflow {
		e := &run.Byokflow[i]
		action, ok := strings.CutPrefix(e.Operation, kpCallPrefix)
		if !ok {
			continue
		}
		found := false
		for j, r := range records {
			if !used[j] && r.Action == action && r.KeyID == e.RootKeyID && r.IAMID == e.IAMID &&
				r.Outcome == outcomeOf(e.Detail) {
				used[j], found = true, true
				break
			}
		}
		e.InKeyProtect = &found
		if !found {
			run.Unconfirmed++
		}
	}
	return run
}

func outcomeOf(detail json.RawMessage) string {
	var d struct {
		Outcome string `json:"outcome"`
	}
	_ = json.Unmarshal(detail, &d)
	return d.Outcome
}

// printAudit writes one block per workflow run: byokflow's events, then
// Key Protect's calls of the same correlation id.
func printAudit(w io.Writer, out auditOutput) {
	fmt.Fprintf(w, "audit of instance %s beside Key Protect's activity record (Key Protect instance %s)\n",
		out.Instance, out.KPInstance)
	for _, run := range out.Runs {
		fmt.Fprintf(w, "\nworkflow %s  correlation id %s\n", dash(run.WorkflowID), dash(run.CorrelationID))
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SIDE\tTIME\tACTION\tIAM ID\tKEY\tRESULT")
		for _, e := range run.Byokflow {
			fmt.Fprintf(tw, "  byokflow\t%s\t%s\t%s\t%s\t%s\n", e.At, e.Operation, dash(e.IAMID), dash(e.RootKeyID), eventResult(e))
		}
		for _, r := range run.KeyProtect {
			fmt.Fprintf(tw, "  key protect\t%s\t%s\t%s\t%s\t%d %s%s\n", r.Time.UTC().Format(time.RFC3339Nano), r.Action, dash(r.IAMID), dash(r.KeyID),
				r.Status, r.Outcome, detailSuffix(r.Reason))
		}
		tw.Flush()
		if run.Unconfirmed > 0 {
			fmt.Fprintf(w, "  %d of byokflow's Key Protect calls are not in Key Protect's record\n", run.Unconfirmed)
		}
	}
}

func eventResult(e auditEvent) string {
	if e.InKeyProtect == nil {
		return "actor " + e.Actor
	}
	if *e.InKeyProtect {
		return outcomeOf(e.Detail) + ", in Key Protect's record"
	}
	return outcomeOf(e.Detail) + ", NOT in Key Protect's record"
}
