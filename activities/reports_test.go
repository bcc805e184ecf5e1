package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// placedInstance records instance orders-db with its nodes on host-a.
func (h *harness) placedInstance() contract.CreateInstanceRecordResult {
	h.t.Helper()
	h.hosts("host-a")
	in := recordInput("wf-1")
	in.RootKeyID = "root-1"
	var rec contract.CreateInstanceRecordResult
	require.NoError(h.t, h.run(contract.ActivityCreateInstanceRecord, in, &rec))
	return rec
}

func TestRecordNodeReports_StoresServerFactsAndFillsRootKey(t *testing.T) {
	h := newCatalogHarness(t)
	rec := h.placedInstance()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r := contract.NodeReport{InstanceID: "orders-db", NodeID: rec.Nodes[1].NodeID, Host: "host-a",
		KeyVersionID: "v1", State: contract.KeyActive, KeyCheckValue: "kcv", ReportedAt: at,
		Role: contract.RoleStandby, ServerUp: true, Address: "127.0.0.1:40001",
		Replication: contract.ReplicationStreaming, LagBytes: 64, Storage: "fscrypt v2 aes-256-xts",
		StorageKeyID: "00112233445566778899aabbccddeeff", StorageKey: "present"}

	var res contract.RecordNodeReportsResult
	require.NoError(t, h.run(contract.ActivityRecordNodeReports, contract.RecordNodeReportsInput{
		Reports: []contract.NodeReport{r}}, &res))

	require.Empty(t, res.Unknown)
	require.Len(t, res.Reports, 1)
	require.Equal(t, "root-1", res.Reports[0].RootKeyID, "a report without a root key gets its instance's")
	status, err := h.cat.LatestStatus(context.Background(), "orders-db")
	require.NoError(t, err)
	require.Equal(t, catalog.Server{Role: "standby", ServerUp: true, Address: "127.0.0.1:40001",
		Replication: "streaming", LagBytes: 64, Storage: "fscrypt v2 aes-256-xts",
		StorageKeyID: "00112233445566778899aabbccddeeff", StorageKey: "present"}, status[1].Server)
	require.Equal(t, catalog.KeyActive, status[1].State)
}

func TestRecordNodeReports_SkipsUnknownNodesAndNamesThem(t *testing.T) {
	h := newCatalogHarness(t)
	rec := h.placedInstance()
	known := contract.NodeReport{InstanceID: "orders-db", NodeID: rec.Nodes[0].NodeID, State: contract.KeyPending}
	gone := contract.NodeReport{InstanceID: "orders-db", NodeID: "orders-db-9", RootKeyID: "root-1",
		State: contract.KeyActive}

	var res contract.RecordNodeReportsResult
	require.NoError(t, h.run(contract.ActivityRecordNodeReports, contract.RecordNodeReportsInput{
		Reports: []contract.NodeReport{gone, known}}, &res))

	require.Equal(t, []string{"node orders-db-9 of instance orders-db"}, res.Unknown)
	require.Len(t, res.Reports, 1)
}

func TestRecordNodeReports_RefusesUnknownState(t *testing.T) {
	h := newCatalogHarness(t)
	rec := h.placedInstance()
	bad := contract.NodeReport{InstanceID: "orders-db", NodeID: rec.Nodes[0].NodeID, RootKeyID: "root-1", State: "rotated"}

	err := h.run(contract.ActivityRecordNodeReports, contract.RecordNodeReportsInput{Reports: []contract.NodeReport{bad}}, nil)

	requireTyped(t, err, contract.ErrTypeInvalidInput, "rotated")
}

func TestRegisterHost_RegistersForPlacement(t *testing.T) {
	h := newCatalogHarness(t)

	require.NoError(t, h.run(contract.ActivityRegisterHost, contract.RegisterHostInput{Host: "host-z",
		TaskQueue: contract.NodeTaskQueue("host-z")}, nil))
	requireTyped(t, h.run(contract.ActivityRegisterHost, contract.RegisterHostInput{Host: "host-y"}, nil),
		contract.ErrTypeInvalidInput, "task queue")

	hosts, err := h.cat.ListHosts(context.Background())
	require.NoError(t, err)
	require.Len(t, hosts, 1)
	require.Equal(t, "byokflow-node-host-z", hosts[0].TaskQueue)
}
