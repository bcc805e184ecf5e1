package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

// adminVerifier has the shape of a PostgreSQL SCRAM-SHA-256 verifier.
const adminVerifier = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"

func provisionInput() contract.ProvisionInput {
	return contract.ProvisionInput{InstanceID: instanceID, RootKeyID: rootKeyID,
		KPInstanceID: kpInstance, Nodes: 3, RequestedBy: "alice", AdminVerifier: adminVerifier}
}

// installPending reports every node's key installed (pending: its server
// comes next) under version.
func installPending(version string) func(context.Context, contract.InstallKeyInput) (contract.NodeReport, error) {
	return func(_ context.Context, in contract.InstallKeyInput) (contract.NodeReport, error) {
		return pending(in.NodeID, hostOf(in.NodeID), version), nil
	}
}

// mockProvision mocks every step of a successful provision under key version v1.
func (h *harness) mockProvision() {
	h.on(contract.ActivityCheckServiceAuthorization, contract.CheckServiceAuthorizationResult{PolicyID: "policy-1"}, nil)
	h.on(contract.ActivityLoadInstance, contract.LoadInstanceResult{}, typedErr(contract.ErrTypeInstanceNotFound))
	h.on(contract.ActivityValidateRootKey, contract.ValidateRootKeyResult{KeyVersionID: "v1",
		KeyName: "orders-root", KeyCRN: "crn:v1:bluemix:public:kms:us-south:a/acct:kp:key:k1"}, nil)
	h.on(contract.ActivityCreateInstanceRecord, contract.CreateInstanceRecordResult{
		InstanceCRN: instCRN, DatabaseName: "orders_db", Nodes: nodes}, nil)
	h.on(contract.ActivityRegisterInstance, nil)
	h.on(contract.ActivityWrapProbe, contract.WrapProbeResult{Ciphertext: []byte("wrapped-probe"), KeyVersionID: "v1"}, nil)
	h.on(contract.ActivityInstallKey, installPending("v1"))
	h.mockServers("v1")
	h.on(contract.ActivityMarkInstanceActive, nil)
	h.mockCompensations()
}

var (
	provisionSteps = []string{contract.ActivityCheckKPInstance, contract.ActivityCheckServiceAuthorization,
		contract.ActivityValidateRootKey, contract.ActivityLoadInstance, contract.ActivityCreateInstanceRecord,
		contract.ActivityRegisterInstance, contract.ActivityWrapProbe}
	installs = []string{contract.ActivityInstallKey, contract.ActivityInstallKey, contract.ActivityInstallKey}
	servers  = []string{contract.ActivityStartPrimary, contract.ActivityStartStandby, contract.ActivityStartStandby}
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
	require.Equal(t, []contract.NodeReport{primaryReport("orders-db-1", "v1"),
		standbyReport("orders-db-2", "v1"), standbyReport("orders-db-3", "v1")}, res.Nodes,
		"the servers' reports, primary first")
	require.Equal(t, concat(provisionSteps, installs, servers, []string{contract.ActivityMarkInstanceActive}), h.calls())
	require.Empty(t, h.droppedNodes())
}

func TestProvision_SendsEachNodeItsInputOnItsHostQueue(t *testing.T) {
	h := newHarness(t)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.ElementsMatch(t, []string{"byokflow-node-host-a", "byokflow-node-host-b", "byokflow-node-host-a"},
		h.queues[contract.ActivityInstallKey])
	require.Equal(t, []string{"byokflow-node-host-a"}, h.queues[contract.ActivityStartPrimary], "the first node's host")
	require.ElementsMatch(t, []string{"byokflow-node-host-b", "byokflow-node-host-a"},
		h.queues[contract.ActivityStartStandby])
	require.Equal(t, []string{contract.ControlTaskQueue}, h.queues[contract.ActivityValidateRootKey])
	h.env.AssertActivityCalled(t, contract.ActivityStartPrimary, mock.Anything, contract.StartPrimaryInput{
		InstanceID: instanceID, NodeID: "orders-db-1", DatabaseName: "orders_db", AdminVerifier: adminVerifier,
		RootKeyID: rootKeyID, KPInstanceID: kpInstance})
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
		"no verifier":     func(in *contract.ProvisionInput) { in.AdminVerifier = "" },
		"a password":      func(in *contract.ProvisionInput) { in.AdminVerifier = "hunter2" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.mockProvision()
			in := provisionInput()
			mutate(&in)

			h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, in)

			require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
			require.NotContains(t, h.env.GetWorkflowError().Error(), "hunter2", "a password is never repeated")
			require.Empty(t, h.allCalls())
		})
	}
}
