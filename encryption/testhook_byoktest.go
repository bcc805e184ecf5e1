//go:build byoktest

package encryption

import (
	"encoding/hex"
	"os"
	"sync"
)

var testKeyLog sync.Mutex

// testHookKeyMade appends the key in hex to the file BYOK_TEST_KEY_LOG
// names. Only in binaries built with -tags byoktest, for the end-to-end
// secret scan (e2e); never in a build of the programs.
func testHookKeyMade(key []byte) {
	path := os.Getenv("BYOK_TEST_KEY_LOG")
	if path == "" {
		return
	}
	testKeyLog.Lock()
	defer testKeyLog.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(hex.EncodeToString(key) + "\n")
}
