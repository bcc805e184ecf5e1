package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration on the wire. Its JSON is Go's string form,
// for example "4h0m0s", so that an input reads as written in the Web UI and
// the CLI. It decodes that form and also a JSON number of nanoseconds, the
// form of histories written before Duration existed, so workflows started
// then still decode their input.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns Go's form of d, for example "4h0m0s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a JSON string in Go's form, for example "4h0m0s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a JSON string that time.ParseDuration accepts ("4h",
// "90m", "4h0m0s") or a JSON number of nanoseconds. null leaves d as it is.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("decode duration %q: give a duration such as \"4h0m0s\" or \"90m\"", s)
		}
		*d = Duration(v)
		return nil
	}
	var ns int64
	if err := json.Unmarshal(b, &ns); err != nil {
		return fmt.Errorf("decode duration %s: give a string such as \"4h0m0s\" or a number of nanoseconds", b)
	}
	*d = Duration(ns)
	return nil
}
