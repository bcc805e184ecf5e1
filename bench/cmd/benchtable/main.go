// Command benchtable runs the bench module's benchmarks (go test -run '^$'
// -bench . -benchmem -count N), prints a table of throughputs with
// byokflow's ratios to raw AES-GCM and to tink, and checks the performance
// targets, printing PASS or FAIL for each. It exits 1 when a target fails
// (unless -fail=false) and 2 when the benchmarks cannot be run.
//
// Usage, from the bench directory:
//
//	go run ./cmd/benchtable [-count 5] [-benchtime 1s] [-stat median] [-input out.txt]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
)

func main() {
	count := flag.Int("count", 5, "go test -count: runs of every benchmark")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	stat := flag.String("stat", "median", "how runs are combined: median or best (highest MB/s)")
	input := flag.String("input", "", "read go test output from this file instead of running the benchmarks")
	failExit := flag.Bool("fail", true, "exit 1 when a target fails")
	flag.Parse()
	out, err := benchOutput(*input, *count, *benchtime)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	results := parse(bytes.NewReader(out))
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results in the output")
		os.Exit(2)
	}
	ok := report(os.Stdout, results, *stat)
	if !ok && *failExit {
		os.Exit(1)
	}
}

// benchOutput runs the benchmarks, echoing their output to stderr, or reads
// a saved output.
func benchOutput(input string, count int, benchtime string) ([]byte, error) {
	if input != "" {
		return os.ReadFile(input)
	}
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem",
		"-count", fmt.Sprint(count), "-benchtime", benchtime, "."}
	fmt.Fprintln(os.Stderr, "go", args)
	cmd := exec.Command("go", args...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, os.Stderr)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("run benchmarks: %w", err)
	}
	return out.Bytes(), nil
}
