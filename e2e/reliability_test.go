package e2e

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The reliability suite (TestReliability_*, files reliability_*_test.go)
// runs crashes, faults, lost hosts, bad input and load against the real
// local stack and records its figures in one table.
//
//   - make test runs one case per class (BYOK_RELIABILITY unset).
//   - make reliability sets BYOK_RELIABILITY=full: every case of every
//     class, each repeated as relRepeat says, and BYOK_RELIABILITY_REPORT
//     to the file the table is written to (TestMain writes it).
//
// After every case the case checks the suite's invariants
// (requireInvariants, reliability_invariants_test.go); a violated one
// fails the case, and so the suite, with the case named.

// relFull reports whether the whole matrix runs (make reliability).
func relFull() bool { return os.Getenv("BYOK_RELIABILITY") == "full" }

// relRepeat is how many times a repeated case runs: n in the full suite,
// once in make test.
func relRepeat(n int) int {
	if relFull() {
		return n
	}
	return 1
}

// relPick returns every case in the full suite and only the first one in
// make test (one case per class).
func relPick[T any](all []T) []T {
	if relFull() || len(all) == 0 {
		return all
	}
	return all[:1]
}

// bigStack is NewStack with sparse 6 GiB volumes, for cases that make a
// new instance per run.
func bigStack(t *testing.T) *Stack {
	defer func(was int) { stackVolumeMiB = was }(stackVolumeMiB)
	stackVolumeMiB = 6144
	return NewStack(t)
}

// relRow is one line of the table: a case and what its runs measured.
type relRow struct {
	Class, Case string
	Runs        int
	Passed      int
	Recovery    []time.Duration // from the restart (or the fault's end) to the workflow's end
	Latency     []time.Duration // of a workflow under the case's conditions
	Calls       map[string]int64
	Peak        map[string]int64 // peak resident memory in KiB, per process
	Notes       []string
	mu          sync.Mutex
}

var relTable struct {
	mu   sync.Mutex
	rows []*relRow
}

// relCase runs fn as subtest name of t and counts it in the table under
// class; what fn records on its row goes into the table too.
func relCase(t *testing.T, class, name string, fn func(t *testing.T, row *relRow)) {
	t.Helper()
	row := relRowOf(class, name)
	t.Run(name, func(t *testing.T) {
		row.mu.Lock()
		row.Runs++
		row.mu.Unlock()
		fn(t, row)
		if !t.Failed() {
			row.mu.Lock()
			row.Passed++
			row.mu.Unlock()
		}
	})
}

// relRowOf returns the row of class and name, making it once.
func relRowOf(class, name string) *relRow {
	relTable.mu.Lock()
	defer relTable.mu.Unlock()
	for _, r := range relTable.rows {
		if r.Class == class && r.Case == name {
			return r
		}
	}
	r := &relRow{Class: class, Case: name, Calls: map[string]int64{}, Peak: map[string]int64{}}
	relTable.rows = append(relTable.rows, r)
	return r
}

func (r *relRow) recovered(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Recovery = append(r.Recovery, d)
}

func (r *relRow) took(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Latency = append(r.Latency, d)
}

// called adds Key Protect (or other) call counts.
func (r *relRow) called(calls map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range calls {
		r.Calls[k] += v
	}
}

// peaked records a process's peak resident memory, keeping the highest.
func (r *relRow) peaked(proc string, kib int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Peak[proc] = max(r.Peak[proc], kib)
}

func (r *relRow) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// relTableMarkdown renders the table: a summary per class, then every case.
func relTableMarkdown() string {
	relTable.mu.Lock()
	rows := slices.Clone(relTable.rows)
	relTable.mu.Unlock()
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("| class | cases | runs | passed | worst recovery |\n|---|---|---|---|---|\n")
	var classes []string
	for _, r := range rows {
		if !slices.Contains(classes, r.Class) {
			classes = append(classes, r.Class)
		}
	}
	for _, c := range classes {
		var cases, runs, passed int
		var rec []time.Duration
		for _, r := range rows {
			if r.Class == c {
				cases, runs, passed = cases+1, runs+r.Runs, passed+r.Passed
				rec = append(rec, r.Recovery...)
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s |\n", c, cases, runs, passed, durMax(rec))
	}
	b.WriteString("\n| class | case | runs | passed | recovery p50 / p95 / max | latency p50 / p95 / max | calls | peak RSS | notes |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %s | %s |\n", r.Class, r.Case, r.Runs, r.Passed,
			durStats(r.Recovery), durStats(r.Latency), mapText(r.Calls, ""), mapText(r.Peak, " KiB"),
			strings.Join(r.Notes, "; "))
	}
	return b.String()
}

// durStats is "p50 / p95 / max" of ds, or "–" when there are none.
func durStats(ds []time.Duration) string {
	if len(ds) == 0 {
		return "–"
	}
	return fmt.Sprintf("%s / %s / %s", durPct(ds, 50), durPct(ds, 95), durMax(ds))
}

func durPct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)].Round(10 * time.Millisecond)
}

func durMax(ds []time.Duration) string {
	if len(ds) == 0 {
		return "–"
	}
	return slices.Max(ds).Round(10 * time.Millisecond).String()
}

// mapText renders m as "k=v" pairs in key order.
func mapText(m map[string]int64, unit string) string {
	if len(m) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d%s", k, m[k], unit)
	}
	return strings.Join(parts, " ")
}

// writeReliabilityReport writes the table to BYOK_RELIABILITY_REPORT, when
// set and when reliability cases ran; TestMain calls it after the tests.
func writeReliabilityReport() {
	path := os.Getenv("BYOK_RELIABILITY_REPORT")
	table := relTableMarkdown()
	if path == "" || table == "" {
		return
	}
	if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "write the reliability table to %s: %v\n", path, err)
	}
}

func TestRelTable_Renders(t *testing.T) {
	r := &relRow{Class: "c", Case: "x", Runs: 2, Passed: 1, Calls: map[string]int64{"wrap": 3, "rotate": 1},
		Recovery: []time.Duration{time.Second, 3 * time.Second}}
	if got := durStats(r.Recovery); got != "1s / 3s / 3s" {
		t.Fatalf("durStats = %q", got)
	}
	if got := mapText(r.Calls, ""); got != "rotate=1 wrap=3" {
		t.Fatalf("mapText = %q", got)
	}
}
