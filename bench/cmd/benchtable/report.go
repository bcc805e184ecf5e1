package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// rows are the benchmarks of the table, in order.
var rows = []string{
	"Encrypt/raw-gcm", "Encrypt/raw-gcm-parallel", "Encrypt/byokflow", "Encrypt/byokflow-parallel", "Encrypt/tink", "Encrypt/age",
	"Decrypt/raw-gcm", "Decrypt/raw-gcm-parallel", "Decrypt/byokflow", "Decrypt/byokflow-parallel", "Decrypt/tink",
}

// ceilings are reported, not checked: how much faster the machine runs
// AES-GCM on all cores with no synchronisation at all, the bound on what
// byokflow-parallel can gain.
var ceilings = [][2]string{
	{"Encrypt/raw-gcm-parallel", "Encrypt/raw-gcm"},
	{"Decrypt/raw-gcm-parallel", "Decrypt/raw-gcm"},
}

// ratioTarget: num's throughput must be at least min times den's.
type ratioTarget struct {
	num, den string
	min      float64
}

var ratioTargets = []ratioTarget{
	{"Encrypt/byokflow", "Encrypt/raw-gcm", 0.90},
	{"Encrypt/byokflow", "Encrypt/tink", 1.30},
	{"Encrypt/byokflow-parallel", "Encrypt/byokflow", 1.70},
	{"Decrypt/byokflow", "Decrypt/raw-gcm", 0.90},
	{"Decrypt/byokflow", "Decrypt/tink", 1.30},
	{"Decrypt/byokflow-parallel", "Decrypt/byokflow", 1.70},
}

// streamChunks is how many 64 KiB chunks one 64 MiB operation seals.
const streamChunks = 1024

// maxAllocsPerOp is the allocation target: fewer than one allocation per 8
// chunks, so allocations cannot be growing with the chunk count.
const maxAllocsPerOp = streamChunks / 8

var allocTargets = []string{"Encrypt/byokflow", "Encrypt/byokflow-parallel", "Decrypt/byokflow", "Decrypt/byokflow-parallel"}

// report prints the table and the targets, and says whether all passed.
func report(w io.Writer, results map[string]*result, stat string) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "benchmark\tMB/s (%s)\truns\tallocs/op\t\n", stat)
	for _, name := range rows {
		if r := results[name]; r != nil {
			fmt.Fprintf(tw, "%s\t%.0f\t%d\t%.0f\t\n", name, r.throughput(stat), len(r.mbps), r.maxAllocs())
		} else {
			fmt.Fprintf(tw, "%s\tmissing\t\t\t\n", name)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, c := range ceilings {
		if num, den := results[c[0]], results[c[1]]; num != nil && den != nil && den.throughput(stat) > 0 {
			fmt.Fprintf(w, "INFO  %-27s / %-17s = %.2f  (this machine's parallel ceiling)\n",
				c[0], c[1], num.throughput(stat)/den.throughput(stat))
		}
	}
	ok := true
	for _, t := range ratioTargets {
		num, den := results[t.num], results[t.den]
		if num == nil || den == nil || den.throughput(stat) == 0 {
			fmt.Fprintf(w, "FAIL  %s / %s: missing\n", t.num, t.den)
			ok = false
			continue
		}
		ratio := num.throughput(stat) / den.throughput(stat)
		pass := ratio >= t.min
		ok = ok && pass
		fmt.Fprintf(w, "%s  %-27s / %-17s = %.2f  (target >= %.2f)\n", verdict(pass), t.num, t.den, ratio, t.min)
	}
	for _, name := range allocTargets {
		r := results[name]
		pass := r != nil && r.maxAllocs() >= 0 && r.maxAllocs() < maxAllocsPerOp
		ok = ok && pass
		allocs := -1.0
		if r != nil {
			allocs = r.maxAllocs()
		}
		fmt.Fprintf(w, "%s  %-27s allocs/op = %.0f for %d chunks  (target < %d: none per chunk)\n",
			verdict(pass), name, allocs, streamChunks, maxAllocsPerOp)
	}
	return ok
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}
