package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrintHealth_NamesTheNodesThatDoNotServe(t *testing.T) {
	down := []nodeHealth{{Node: "orders-3", Host: "c", Reason: "host c has not checked in for 20s (lease 15s)"}}
	tests := []struct {
		state string
		want  []string
	}{
		{"degraded", []string{"degraded: the primary serves", "orders-3 (host c): host c has not checked in"}},
		{"unavailable", []string{"unavailable: the primary does not serve", "orders-3 (host c)"}},
		{"active", nil},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			var b bytes.Buffer
			printHealth(&b, statusOutput{State: tt.state, Health: down})
			for _, w := range tt.want {
				require.Contains(t, b.String(), w)
			}
			if tt.want == nil {
				require.Empty(t, b.String())
			}
		})
	}
}
