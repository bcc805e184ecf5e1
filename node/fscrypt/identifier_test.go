package fscrypt_test

import (
	"strings"
	"testing"

	"github.com/byokflow/byokflow/node/fscrypt"
)

func TestParseIdentifier_RoundTrip(t *testing.T) {
	var id fscrypt.Identifier
	for i := range id {
		id[i] = byte(i * 17)
	}
	s := id.String()
	if s != "00112233445566778899aabbccddeeff" {
		t.Fatalf("String() = %q", s)
	}
	got, err := fscrypt.ParseIdentifier(s)
	if err != nil || got != id {
		t.Fatalf("ParseIdentifier(%q) = %v, %v", s, got, err)
	}
}

func TestParseIdentifier_Invalid(t *testing.T) {
	for _, s := range []string{"", "00112233", "00112233445566778899aabbccddeeff00", "zz112233445566778899aabbccddeeff"} {
		if _, err := fscrypt.ParseIdentifier(s); err == nil {
			t.Errorf("ParseIdentifier(%q) succeeded", s)
		}
	}
}

// frozenIdentifier is what Linux 6.18 returned for the key 00 01 .. 3f.
const frozenIdentifier = "8699c2c53707405da5aba5ae4d8583c0"

// TestComputeIdentifier_FrozenVector pins the kernel's derivation; the
// kernel tests check the same function against what the kernel computes.
func TestComputeIdentifier_FrozenVector(t *testing.T) {
	key := make([]byte, fscrypt.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	id, err := fscrypt.ComputeIdentifier(key)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id.String(), frozenIdentifier; got != want {
		t.Fatalf("identifier of key 00..3f = %s, want %s", got, want)
	}
}

func TestComputeIdentifier_WrongSize(t *testing.T) {
	if _, err := fscrypt.ComputeIdentifier(make([]byte, 32)); err == nil {
		t.Fatal("a 32-byte key was accepted")
	}
}

func TestRemoval_String(t *testing.T) {
	cases := []struct {
		r        fscrypt.Removal
		want     string
		complete bool
	}{
		{fscrypt.Removal{}, "removed", true},
		{fscrypt.Removal{Absent: true}, "already absent", true},
		{fscrypt.Removal{FilesBusy: true}, "incomplete: files busy", false},
		{fscrypt.Removal{OtherUsers: true}, "incomplete: other users hold the key", false},
	}
	for _, c := range cases {
		if got := c.r.String(); got != c.want || c.r.Complete() != c.complete {
			t.Errorf("%+v: String() = %q, Complete() = %v; want %q, %v", c.r, got, c.r.Complete(), c.want, c.complete)
		}
	}
}

func TestUnsupportedError_Message(t *testing.T) {
	e := &fscrypt.UnsupportedError{Op: "check fscrypt support", Dir: "/srv", Cause: "no encrypt feature", Fix: "run tune2fs"}
	if got := e.Error(); !strings.HasPrefix(got, "check fscrypt support on /srv: no encrypt feature: run tune2fs") {
		t.Fatalf("Error() = %q", got)
	}
}
