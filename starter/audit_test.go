package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/internal/kprecords"
)

func TestGroupRuns_OneRunPerCorrelationIDInOrder(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	events := []catalog.AuditEvent{
		{Operation: "instance.create", CorrelationID: "c-prov", WorkflowID: "provision-orders", At: at},
		{Operation: "kp.create_registration", CorrelationID: "c-prov", WorkflowID: "provision-orders", IAMID: "svc"},
		{Operation: "instance.active", WorkflowID: "old"},
		{Operation: "kp.rotate", CorrelationID: "c-rot", WorkflowID: "rotate-orders", IAMID: "op"},
		{Operation: "instance.active", CorrelationID: "c-prov", WorkflowID: "provision-orders"},
	}

	runs := groupRuns(events)

	require.Len(t, runs, 3)
	require.Equal(t, []string{"c-prov", "", "c-rot"}, []string{runs[0].CorrelationID, runs[1].CorrelationID, runs[2].CorrelationID})
	require.Equal(t, "provision-orders", runs[0].WorkflowID)
	require.Len(t, runs[0].Byokflow, 3)
	require.Equal(t, "2026-03-01T12:00:00.000Z", runs[0].Byokflow[0].At)
	require.Equal(t, "instance.active", runs[0].Byokflow[2].Operation)
}

func TestMatchRun_ConfirmsEachCallOnceByActionKeyIAMIDAndOutcome(t *testing.T) {
	ok, failed := json.RawMessage(`{"outcome":"success"}`), json.RawMessage(`{"outcome":"failure"}`)
	run := auditRun{CorrelationID: "c", Byokflow: []auditEvent{
		{Operation: "instance.key-version"},
		{Operation: "kp.rotate", RootKeyID: "k1", IAMID: "op", Detail: ok},
		{Operation: "kp.rotate", RootKeyID: "k1", IAMID: "op", Detail: ok}, // a second rotation: one record only
		{Operation: "kp.create_registration", RootKeyID: "k1", IAMID: "svc", Detail: failed},
		{Operation: "kp.delete_key", RootKeyID: "k1", IAMID: "someone-else", Detail: ok}, // another IAM id in KP
	}}
	records := []kpRecord{
		{Action: "get_key_metadata", KeyID: "k1", IAMID: "op", Outcome: "success", Status: 200},
		{Action: "rotate", KeyID: "k1", IAMID: "op", Outcome: "success", Status: 200},
		{Action: "create_registration", KeyID: "k1", IAMID: "svc", Outcome: "failure", Status: 403},
		{Action: "delete_key", KeyID: "k1", IAMID: "op", Outcome: "success", Status: 200},
	}

	got := matchRun(run, records)

	require.Nil(t, got.Byokflow[0].InKeyProtect, "not a Key Protect call")
	var confirmed []bool
	for _, e := range got.Byokflow[1:] {
		confirmed = append(confirmed, *e.InKeyProtect)
	}
	require.Equal(t, []bool{true, false, true, false}, confirmed)
	require.Equal(t, 2, got.Unconfirmed)
	require.Equal(t, records, got.KeyProtect, "every record of the correlation id is shown")
}

func TestKPActivity_ReadsTheRecordsOfACorrelationID(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_, _ = w.Write([]byte(`{"records":[{"time":"2026-03-01T12:00:00Z","instanceId":"kp-1","iamId":"IBMid-op",
			"action":"rotate","keyId":"k1","correlationId":"c-1","status":200,"reason":"","outcome":"success"}]}`))
	}))
	defer srv.Close()
	auth, err := core.NewBearerTokenAuthenticator("operator-token")
	require.NoError(t, err)
	k := &kpActivity{baseURL: srv.URL, instanceID: "kp-1", list: kprecords.New(srv.URL, "kp-1", auth, srv.Client())}

	records, err := k.records(context.Background(), "c-1")

	require.NoError(t, err)
	require.Equal(t, []kpRecord{{Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), InstanceID: "kp-1", IAMID: "IBMid-op", Action: "rotate",
		KeyID: "k1", CorrelationID: "c-1", Status: 200, Outcome: "success"}}, records)
	require.Equal(t, "/admin/v1/activity", got.URL.Path)
	require.Equal(t, "c-1", got.URL.Query().Get("correlationId"))
	require.Equal(t, "Bearer operator-token", got.Header.Get("Authorization"))
	require.Equal(t, "kp-1", got.Header.Get("Bluemix-Instance"))
}

func TestKPActivity_FailuresSayWhatToDoAndNoToken(t *testing.T) {
	tests := map[int]string{
		http.StatusNotFound:            "Activity Tracker",
		http.StatusForbidden:           "give IBMCLOUD_API_KEY a role",
		http.StatusInternalServerError: "run the command again later",
	}
	for status, want := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
		}))
		auth, err := core.NewBearerTokenAuthenticator("operator-token")
		require.NoError(t, err)
		k := &kpActivity{baseURL: srv.URL, instanceID: "kp-1", list: kprecords.New(srv.URL, "kp-1", auth, srv.Client())}

		_, err = k.records(context.Background(), "c-1")

		require.ErrorContains(t, err, want)
		require.ErrorContains(t, err, "kp-1")
		require.NotContains(t, err.Error(), "operator-token")
		srv.Close()
	}
}

func TestPrintAudit_ShowsBothSidesPerRun(t *testing.T) {
	yes := true
	out := auditOutput{Instance: "orders", KPInstance: "kp-1", Runs: []auditRun{{CorrelationID: "c-1", WorkflowID: "rotate-orders",
		Byokflow: []auditEvent{{At: "t1", Operation: "kp.rotate", IAMID: "IBMid-op", RootKeyID: "k1",
			Detail: json.RawMessage(`{"outcome":"success"}`), InKeyProtect: &yes}},
		KeyProtect: []kpRecord{{Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Action: "rotate", IAMID: "IBMid-op", KeyID: "k1", Status: 200, Outcome: "success"}}}}}
	var b bytes.Buffer

	printAudit(&b, out)

	s := b.String()
	require.Contains(t, s, "workflow rotate-orders  correlation id c-1")
	require.Regexp(t, `byokflow\s+t1\s+kp.rotate\s+IBMid-op\s+k1\s+success, in Key Protect's record`, s)
	require.Regexp(t, `key protect\s+2026-03-01T12:00:00Z\s+rotate\s+IBMid-op\s+k1\s+200 success`, s)
}
