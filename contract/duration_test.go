package contract

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDuration_MarshalsGoString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		4 * time.Hour: `"4h0m0s"`, 90 * time.Second: `"1m30s"`, 0: `"0s"`, -time.Hour: `"-1h0m0s"`,
	} {
		b, err := json.Marshal(Duration(d))
		require.NoError(t, err)
		require.Equal(t, want, string(b))
	}
	require.Equal(t, "4h0m0s", Duration(DefaultNodeDeadline).String())
}

func TestDuration_UnmarshalsStringOrNanoseconds(t *testing.T) {
	tests := []struct {
		doc  string
		want time.Duration
	}{
		{`"4h0m0s"`, 4 * time.Hour},
		{`"90m"`, 90 * time.Minute},
		{`"-1h"`, -time.Hour},
		{`14400000000000`, 4 * time.Hour}, // before Duration: nanoseconds
		{`0`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			var d Duration
			require.NoError(t, json.Unmarshal([]byte(tt.doc), &d))
			require.Equal(t, tt.want, d.D())
		})
	}
}

func TestDuration_NullKeepsTheValue(t *testing.T) {
	d := Duration(time.Hour)
	require.NoError(t, json.Unmarshal([]byte(`null`), &d))
	require.Equal(t, time.Hour, d.D())
}

func TestDuration_RefusesWhatIsNotADuration(t *testing.T) {
	for _, doc := range []string{`"soon"`, `""`, `true`, `1.5`, `{}`} {
		var d Duration
		require.ErrorContains(t, json.Unmarshal([]byte(doc), &d), "decode duration", doc)
	}
}
