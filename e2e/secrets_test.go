package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSecrets_AdminPasswordReachesNoHistoryLogOrCatalog: the operator's
// admin password stays in the passfile: the provision's history carries
// its SCRAM verifier only, and no history (raw or decoded), log line or
// catalog row holds the password. The control checks that the scan sees
// what is there: the verifier in the decoded history.
func TestSecrets_AdminPasswordReachesNoHistoryLogOrCatalog(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("secret-root")
	name := UniqueName("secret")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
	r := s.Starter("sql", "--instance", name, "-c", "select 1")
	require.Equal(t, 0, r.Code, r.Stderr)
	password := []secret{{"admin password", []byte(readPassword(t, s, name))}}

	raw := rawClient(t)
	decoded := s.histories(t, raw, []string{name}, true)
	var verifierSeen bool
	for _, h := range decoded {
		verifierSeen = verifierSeen || strings.Contains(string(h.data), "SCRAM-SHA-256$4096:")
	}
	require.True(t, verifierSeen, "control: the decoded history carries the verifier")
	places := append(append(append(s.histories(t, raw, []string{name}, false), decoded...), s.logs(t)...),
		s.catalogRows(t)...)
	require.Empty(t, findSecrets(password, places))
}
