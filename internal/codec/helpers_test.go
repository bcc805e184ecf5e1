package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

// requireNoSecret fails when haystack holds secret raw, as hex or as base64.
func requireNoSecret(t *testing.T, haystack, secret []byte) {
	t.Helper()
	forms := [][]byte{secret, []byte(hex.EncodeToString(secret)), []byte(base64.StdEncoding.EncodeToString(secret)),
		[]byte(base64.RawURLEncoding.EncodeToString(secret))}
	for _, f := range forms {
		if bytes.Contains(haystack, f) {
			t.Fatalf("the secret appears in the output")
		}
	}
}
