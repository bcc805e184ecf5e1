package main

import (
	"bytes"
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
BenchmarkEncrypt/raw-gcm-2         	      78	  16649571 ns/op	4000.00 MB/s	       0 B/op	       0 allocs/op
BenchmarkEncrypt/raw-gcm-2         	      78	  16649571 ns/op	3000.00 MB/s	       0 B/op	       0 allocs/op
BenchmarkEncrypt/raw-gcm-2         	      78	  16649571 ns/op	4200.00 MB/s	       0 B/op	       0 allocs/op
BenchmarkEncrypt/raw-gcm-parallel-2	     150	   8000000 ns/op	8000.00 MB/s	     500 B/op	       9 allocs/op
BenchmarkEncrypt/byokflow-2        	      80	  17393106 ns/op	3800.00 MB/s	   80113 B/op	      54 allocs/op
BenchmarkEncrypt/byokflow-parallel-2  	  56	  18366289 ns/op	7000.00 MB/s	  279467 B/op	      70 allocs/op
BenchmarkEncrypt/tink-2            	      66	  19028067 ns/op	2000.00 MB/s	 3149504 B/op	      91 allocs/op
BenchmarkDecrypt/byokflow-2        	      64	  17554470 ns/op	3822.89 MB/s	   79770 B/op	    2000 allocs/op
PASS
`

func TestParse_MediansAndAllocs(t *testing.T) {
	res := parse(strings.NewReader(sampleOutput))
	if got := res["Encrypt/raw-gcm"].throughput("median"); got != 4000 {
		t.Fatalf("median = %v, want 4000", got)
	}
	if got := res["Encrypt/raw-gcm"].throughput("best"); got != 4200 {
		t.Fatalf("best = %v, want 4200", got)
	}
	if got := res["Encrypt/byokflow-parallel"].maxAllocs(); got != 70 {
		t.Fatalf("allocs = %v, want 70", got)
	}
	if _, ok := res["Encrypt/raw-gcm-2"]; ok {
		t.Fatal("the GOMAXPROCS suffix must be dropped")
	}
}

func TestReport_PassAndFail(t *testing.T) {
	var out bytes.Buffer
	ok := report(&out, parse(strings.NewReader(sampleOutput)), "median")
	if ok {
		t.Fatal("missing decrypt rows and 2000 allocs/op must fail")
	}
	for _, want := range []string{
		"PASS  Encrypt/byokflow            / Encrypt/raw-gcm   = 0.95",
		"PASS  Encrypt/byokflow            / Encrypt/tink      = 1.90",
		"PASS  Encrypt/byokflow-parallel   / Encrypt/byokflow  = 1.84",
		"FAIL  Decrypt/byokflow            allocs/op = 2000",
		"FAIL  Decrypt/byokflow / Decrypt/raw-gcm: missing",
		"INFO  Encrypt/raw-gcm-parallel    / Encrypt/raw-gcm   = 2.00",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
