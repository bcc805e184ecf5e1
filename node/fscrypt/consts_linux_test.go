package fscrypt

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestConstants_MatchKernelHeaders: the values fscrypt.go spells out so it
// builds on every OS are those of linux/fscrypt.h.
func TestConstants_MatchKernelHeaders(t *testing.T) {
	pairs := []struct {
		name      string
		ours, hdr int
	}{
		{"KeySize", KeySize, unix.FSCRYPT_MAX_KEY_SIZE},
		{"ModeAES256XTS", int(ModeAES256XTS), unix.FSCRYPT_MODE_AES_256_XTS},
		{"ModeAES256CTS", int(ModeAES256CTS), unix.FSCRYPT_MODE_AES_256_CTS},
		{"FlagsPad32", FlagsPad32, unix.FSCRYPT_POLICY_FLAGS_PAD_32},
		{"StatusAbsent", int(StatusAbsent), unix.FSCRYPT_KEY_STATUS_ABSENT},
		{"StatusPresent", int(StatusPresent), unix.FSCRYPT_KEY_STATUS_PRESENT},
		{"StatusIncompletelyRemoved", int(StatusIncompletelyRemoved), unix.FSCRYPT_KEY_STATUS_INCOMPLETELY_REMOVED},
		{"len(Identifier)", len(Identifier{}), unix.FSCRYPT_KEY_IDENTIFIER_SIZE},
	}
	for _, p := range pairs {
		if p.ours != p.hdr {
			t.Errorf("%s = %d, linux/fscrypt.h says %d", p.name, p.ours, p.hdr)
		}
	}
}
