package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// auditDoc mirrors `starter audit --json`.
type auditDoc struct {
	Instance   string `json:"instance"`
	KPInstance string `json:"kpInstance"`
	Runs       []struct {
		CorrelationID string `json:"correlationId"`
		WorkflowID    string `json:"workflowId"`
		Byokflow      []struct {
			Operation    string `json:"operation"`
			IAMID        string `json:"iamId"`
			RootKeyID    string `json:"rootKeyId"`
			InKeyProtect *bool  `json:"inKeyProtect"`
		} `json:"byokflow"`
		KeyProtect []struct {
			IAMID         string `json:"iamId"`
			Action        string `json:"action"`
			KeyID         string `json:"keyId"`
			CorrelationID string `json:"correlationId"`
			Status        int    `json:"status"`
			Outcome       string `json:"outcome"`
		} `json:"keyProtect"`
		Unconfirmed int `json:"unconfirmed"`
	} `json:"runs"`
}

// TestAudit_EachKeyProtectCallHasTheSameCorrelationIDOnBothSides: after a
// provision, a rotation and a backup, `starter audit` shows for each
// workflow run byokflow's events and Key Protect's own record of the calls
// (the emulator's activity record) under one correlation id: the control
// plane's calls (registration, rotation) confirmed on both sides with the
// IAM id Key Protect saw, and the node agents' wraps and rewraps too.
func TestAudit_EachKeyProtectCallHasTheSameCorrelationIDOnBothSides(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("audit-root")
	name := UniqueName("audited")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--json")
	s.mustJSON(&statusDoc{}, "rotate", "--instance", name, "--json")
	s.mustJSON(&backupDoc{}, "backup", "--instance", name, "--json")

	var doc auditDoc
	s.mustJSON(&doc, "audit", "--instance", name, "--json")

	require.Equal(t, name, doc.Instance)
	dev := s.Emu.Dev
	seen := map[string]bool{}
	kpActions := map[string][]string{}
	for _, run := range doc.Runs {
		op, _, _ := strings.Cut(run.WorkflowID, "-")
		seen[op] = true
		require.NotEmpty(t, run.CorrelationID, "run %s", run.WorkflowID)
		require.NotEmpty(t, run.KeyProtect, "Key Protect recorded calls of run %s", run.WorkflowID)
		require.Zero(t, run.Unconfirmed, "every Key Protect call byokflow recorded is in Key Protect's record: %+v", run)
		for _, r := range run.KeyProtect {
			require.Equal(t, run.CorrelationID, r.CorrelationID, "same correlation id on both sides")
			require.Contains(t, []string{dev.OperatorIAMID, dev.ServiceIAMID}, r.IAMID, "%+v", r)
			kpActions[op] = append(kpActions[op], r.Action)
		}
		for _, e := range run.Byokflow {
			if strings.HasPrefix(e.Operation, "kp.") {
				require.NotNil(t, e.InKeyProtect)
				require.True(t, *e.InKeyProtect, "%s of run %s", e.Operation, run.WorkflowID)
				require.Equal(t, key, e.RootKeyID)
			}
		}
	}
	require.Equal(t, map[string]bool{"provision": true, "rotate": true, "backup": true}, seen)
	require.Contains(t, kpActions["provision"], "create_registration", "the control plane registers the instance")
	require.Contains(t, kpActions["provision"], "wrap", "the node agents' wraps carry the workflow's id too")
	require.Contains(t, kpActions["rotate"], "rotate")
	require.Contains(t, kpActions["backup"], "wrap", "the backup DEK")
	require.True(t, slices.Contains(kpActions["rotate"], "rewrap") || slices.Contains(kpActions["rotate"], "unwrap"),
		"the nodes rewrap under the new version: %v", kpActions["rotate"])

	r := s.Starter("audit", "--instance", name)
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Contains(t, r.Stdout, "correlation id ")
	require.Contains(t, r.Stdout, "in Key Protect's record")
	require.NotContains(t, r.Stdout, "NOT in Key Protect's record")
}
