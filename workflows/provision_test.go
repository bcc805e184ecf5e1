package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

func provisionInput() contract.ProvisionInput {
	return contract.ProvisionInput{InstanceID: instanceID, RootKeyID: rootKeyID,
		KPInstanceID: kpInstance, Nodes: 3, RequestedBy: "alice"}
}

// installActive reports every node active under version.
func installActive(version string) func(context.Context, contract.InstallKeyInput) (contract.NodeReport, error) {
	return func(_ context.Context, in contract.InstallKeyInput) (contract.NodeReport, error) {
		return report(in.NodeID, hostOf(in.NodeID), version), nil
	}
}

// mockProvision mocks every step of a successful provision under key version v1.
func (h *harness) mockProvision() {
	h.on(contract.ActivityCheckServiceAuthorization, contract.CheckServiceAuthorizationResult{PolicyID: "policy-1"}, nil)
	h.on(contract.ActivityValidateRootKey, contract.ValidateRootKeyResult{KeyVersionID: "v1",
		KeyName: "orders-root", KeyCRN: "crn:v1:bluemix:public:kms:us-south:a/acct:kp:key:k1"}, nil)
	h.on(contract.ActivityCreateInstanceRecord, contract.CreateInstanceRecordResult{
		InstanceCRN: instCRN, DatabaseName: "orders_db", Nodes: nodes}, nil)
	h.on(contract.ActivityRegisterInstance, nil)
	h.on(contract.ActivityCreateInstanceDatabase, nil)
	h.on(contract.ActivityInstallKey, installActive("v1"))
	h.on(contract.ActivityMarkInstanceActive, nil)
	h.mockCompensations()
}

var (
	provisionSteps = []string{contract.ActivityCheckServiceAuthorization, contract.ActivityValidateRootKey,
		contract.ActivityCreateInstanceRecord, contract.ActivityRegisterInstance,
		contract.ActivityCreateInstanceDatabase}
	installs = []string{contract.ActivityInstallKey, contract.ActivityInstallKey, contract.ActivityInstallKey}
	drops    = []string{contract.ActivityDropKeySlot, contract.ActivityDropKeySlot, contract.ActivityDropKeySlot}
)

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestProvision_HappyPath(t *testing.T) {
	h := newHarness(t)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.ProvisionResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, instanceID, res.InstanceID)
	require.Equal(t, instCRN, res.InstanceCRN)
	require.Equal(t, rootKeyID, res.RootKeyID)
	require.Equal(t, "v1", res.KeyVersionID)
	require.Equal(t, []contract.NodeReport{report("orders-db-1", "host-a", "v1"),
		report("orders-db-2", "host-b", "v1"), report("orders-db-3", "host-a", "v1")}, res.Nodes)
	require.Equal(t, concat(provisionSteps, installs, []string{contract.ActivityMarkInstanceActive}), h.calls())
	require.Empty(t, h.droppedNodes())
}

func TestProvision_SendsEachNodeItsInputOnItsHostQueue(t *testing.T) {
	h := newHarness(t)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.ElementsMatch(t, []string{"byokflow-node-host-a", "byokflow-node-host-b", "byokflow-node-host-a"},
		h.queues[contract.ActivityInstallKey])
	require.Equal(t, []string{contract.ControlTaskQueue}, h.queues[contract.ActivityValidateRootKey])
	for _, n := range nodes {
		h.env.AssertActivityCalled(t, contract.ActivityInstallKey, mock.Anything, contract.InstallKeyInput{
			InstanceID: instanceID, NodeID: n.NodeID, RootKeyID: rootKeyID,
			AAD: contract.NodeAAD(instanceID, n.NodeID), ExpectedVersionID: "v1", KPInstanceID: kpInstance})
	}
	h.env.AssertActivityCalled(t, contract.ActivityCheckServiceAuthorization, mock.Anything,
		contract.CheckServiceAuthorizationInput{KPInstanceID: kpInstance})
	h.env.AssertActivityCalled(t, contract.ActivityMarkInstanceActive, mock.Anything,
		contract.MarkInstanceActiveInput{InstanceID: instanceID, KeyVersionID: "v1"})
	h.env.AssertActivityCalled(t, contract.ActivityCreateInstanceRecord, mock.Anything,
		mock.MatchedBy(func(in contract.CreateInstanceRecordInput) bool {
			return in.InstanceID == instanceID && in.Nodes == 3 && in.KeyVersionID == "v1" &&
				in.WorkflowID != "" && in.RequestedBy == "alice"
		}))
}

func TestProvision_UpsertsSearchAttributes(t *testing.T) {
	h := newHarness(t)
	h.mockProvision()
	got := map[string]string{}
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		for _, k := range []temporal.SearchAttributeKeyKeyword{contract.InstanceIDKey, contract.RootKeyIDKey, contract.OperationKey} {
			if v, ok := sa.GetKeyword(k); ok {
				got[k.GetName()] = v
			}
		}
	}).Return(nil)

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, map[string]string{"ByokInstanceID": instanceID, "ByokRootKeyID": rootKeyID,
		"ByokOperation": "provision"}, got)
}

func TestProvision_InvalidInputStartsNoActivity(t *testing.T) {
	tests := map[string]func(*contract.ProvisionInput){
		"bad name":        func(in *contract.ProvisionInput) { in.InstanceID = "Orders DB" },
		"bad key id":      func(in *contract.ProvisionInput) { in.RootKeyID = "rotate" },
		"bad kp instance": func(in *contract.ProvisionInput) { in.KPInstanceID = "kp" },
		"too many nodes":  func(in *contract.ProvisionInput) { in.Nodes = 10 },
		"negative nodes":  func(in *contract.ProvisionInput) { in.Nodes = -1 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.mockProvision()
			in := provisionInput()
			mutate(&in)

			h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, in)

			require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
			require.Empty(t, h.calls())
		})
	}
}
