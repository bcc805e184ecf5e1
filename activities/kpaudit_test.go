package activities

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/correlation"
)

// kpEvents are the audit events of Key Protect calls, oldest first.
func (h *harness) kpEvents() []catalog.AuditEvent {
	h.t.Helper()
	all, err := h.cat.ListAudit(context.Background(), "")
	require.NoError(h.t, err)
	var out []catalog.AuditEvent
	for _, e := range all {
		if strings.HasPrefix(e.Operation, "kp.") {
			out = append(out, e)
		}
	}
	return out
}

func TestKPCalls_AuditedWithIAMIDAndCorrelationID(t *testing.T) {
	h := newCatalogHarness(t)
	h.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{correlation.Interceptor()}})
	key := h.rootKey("orders-root")
	crn := instanceCRN(h.acts.cfg, "orders-db")
	reg := contract.RegisterInstanceInput{RootKeyID: key.ID, InstanceCRN: crn}

	err := h.run(contract.ActivityRegisterInstance, reg, nil)
	requireTyped(t, err, contract.ErrTypeServiceNotAuthorized)
	h.emu.AuthorizeService(t)
	require.NoError(t, h.run(contract.ActivityRegisterInstance, reg, nil))
	require.NoError(t, h.run(contract.ActivityRotateKey, contract.RotateKeyInput{RootKeyID: key.ID,
		FromVersionID: key.KeyVersion.ID}, nil))
	require.NoError(t, h.run(contract.ActivityReadKeyVersion, contract.ReadKeyVersionInput{RootKeyID: key.ID}, nil))

	events := h.kpEvents()
	require.Len(t, events, 3, "reads are not audited: %v", events)
	wantCorrelation := correlation.ID("default-test-workflow-id", "default-test-run-id").String()
	want := []struct{ op, iamID, outcome string }{
		{"kp.create_registration", h.emu.Dev.ServiceIAMID, "failure"},
		{"kp.create_registration", h.emu.Dev.ServiceIAMID, "success"},
		{"kp.rotate", h.emu.Dev.OperatorIAMID, "success"},
	}
	for i, w := range want {
		e := events[i]
		var detail map[string]any
		require.NoError(t, json.Unmarshal(e.Detail, &detail))
		require.Equal(t, w.op, e.Operation)
		require.Equal(t, w.iamID, e.IAMID, "the IAM id Key Protect saw")
		require.Equal(t, wantCorrelation, e.CorrelationID)
		require.Equal(t, key.ID, e.RootKeyID)
		require.Equal(t, w.outcome, detail["outcome"])
		require.Equal(t, h.emu.Dev.KPInstanceID, detail["kpInstanceId"])
		require.Equal(t, "default-test-workflow-id", e.WorkflowID)
	}
	var refused map[string]any
	require.NoError(t, json.Unmarshal(events[0].Detail, &refused))
	require.EqualValues(t, 403, refused["status"])
	require.Equal(t, crn, refused["resourceCrn"])
}

func TestKPCalls_WithoutCatalogAuditNothing(t *testing.T) {
	h := newHarness(t)
	key := h.rootKey("orders-root")

	require.NoError(t, h.run(contract.ActivityRotateKey, contract.RotateKeyInput{RootKeyID: key.ID,
		FromVersionID: key.KeyVersion.ID}, nil))
}
