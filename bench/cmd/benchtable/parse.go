package main

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
)

// result is every run of one benchmark.
type result struct {
	mbps   []float64
	allocs []float64
}

// benchLine matches a go test benchmark line with -benchmem and SetBytes,
// such as "BenchmarkEncrypt/byokflow-2  60  17393106 ns/op  3858.36 MB/s
// 80113 B/op  54 allocs/op". The -N GOMAXPROCS suffix is dropped.
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) MB/s(?:\s+[\d.]+ B/op\s+([\d.]+) allocs/op)?`)

// parse collects the results by name ("Encrypt/byokflow").
func parse(r io.Reader) map[string]*result {
	results := map[string]*result{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		res := results[m[1]]
		if res == nil {
			res = &result{}
			results[m[1]] = res
		}
		mbps, _ := strconv.ParseFloat(m[2], 64)
		res.mbps = append(res.mbps, mbps)
		if m[3] != "" {
			allocs, _ := strconv.ParseFloat(m[3], 64)
			res.allocs = append(res.allocs, allocs)
		}
	}
	return results
}

// throughput combines the runs: their median, or the best one.
func (r *result) throughput(stat string) float64 {
	s := slices.Sorted(slices.Values(r.mbps))
	if len(s) == 0 {
		return 0
	}
	if stat == "best" {
		return s[len(s)-1]
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// maxAllocs is the highest allocs/op seen, or -1 without -benchmem.
func (r *result) maxAllocs() float64 {
	if len(r.allocs) == 0 {
		return -1
	}
	return slices.Max(r.allocs)
}
