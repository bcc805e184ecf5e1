package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func TestAppendReport_StoresAndAssigns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)

	withTime := report("orders-db", "n0", catalog.KeyActive)
	withTime.ReportedAt = at
	withTime.Server = catalog.Server{Role: "standby", ServerUp: true, Address: "127.0.0.1:45001",
		Replication: "streaming", LagBytes: 512, Storage: "fscrypt v2 aes-256-xts",
		StorageKeyID: "00112233445566778899aabbccddeeff", StorageKey: "present"}
	got, err := e.cat.AppendReport(ctx, withTime)
	require.NoError(t, err)
	require.NotZero(t, got.ID)
	require.True(t, at.Equal(got.ReportedAt), "node time kept: %v", got.ReportedAt)
	got.ID, got.ReportedAt = 0, withTime.ReportedAt
	require.Equal(t, withTime, got)

	now, err := e.cat.AppendReport(ctx, report("orders-db", "n0", catalog.KeyActive))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), now.ReportedAt, time.Minute, "zero time means the catalog's")
}

func TestAppendReport_Rejects(t *testing.T) {
	tests := []struct {
		name     string
		report   catalog.KeyStatusReport
		wantErr  error
		wantCode string
	}{
		{name: "unknown node", report: report("orders-db", "n7", catalog.KeyActive), wantErr: catalog.ErrNotFound},
		{name: "unknown instance", report: report("missing-db", "n0", catalog.KeyActive), wantErr: catalog.ErrNotFound},
		{name: "unknown state", report: report("orders-db", "n0", "rotated"), wantCode: codeCheckViolation},
		{name: "unknown role", report: withRole(report("orders-db", "n0", catalog.KeyActive), "leader"),
			wantCode: codeCheckViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mustInstance(t, e.cat, "orders-db")
			_, err := e.cat.AppendReport(context.Background(), tt.report)
			require.ErrorContains(t, err, tt.report.InstanceID)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				requirePgCode(t, err, tt.wantCode)
			}
			require.Equal(t, 0, count(t, e.raw, "SELECT count(*) FROM key_status_reports"))
		})
	}
}

func TestKeyStatusReports_AppendOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.AppendReport(ctx, report("orders-db", "n0", catalog.KeyActive))
	require.NoError(t, err)

	for _, sql := range []string{
		"UPDATE key_status_reports SET state = 'destroyed'",
		"DELETE FROM key_status_reports",
		"TRUNCATE key_status_reports",
	} {
		t.Run(sql, func(t *testing.T) {
			_, err := e.raw.Exec(ctx, sql)
			requirePgCode(t, err, codeRestrictViolation)
			require.ErrorContains(t, err, "append-only")
		})
	}
	history, err := e.cat.ReportHistory(ctx, "orders-db", "")
	require.NoError(t, err)
	require.Len(t, history, 1)
	require.Equal(t, catalog.KeyActive, history[0].State)
}

func TestLatestStatus_NewestPerNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
	require.NoError(t, err)
	// Ordinals differ from node-id order: the page is ordered by node id.
	require.NoError(t, e.cat.AddNodes(ctx, "orders-db", []catalog.Node{
		{NodeID: "n0", Host: "host-a", TaskQueue: "q-a", Ordinal: 2},
		{NodeID: "n1", Host: "host-b", TaskQueue: "q-b", Ordinal: 0},
		{NodeID: "n2", Host: "host-c", TaskQueue: "q-c", Ordinal: 1},
	}))
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	appendAt := func(node string, state catalog.KeyState, version string, at time.Time) {
		r := report("orders-db", node, state)
		r.KeyVersionID, r.ReportedAt = version, at
		_, err := e.cat.AppendReport(ctx, r)
		require.NoError(t, err)
	}
	appendAt("n0", catalog.KeyActive, "v1", t0)
	appendAt("n0", catalog.KeyRewrapRequired, "v1", t0.Add(2*time.Minute))
	appendAt("n0", catalog.KeyActive, "v2-stale", t0.Add(time.Minute)) // arrives last, but older
	appendAt("n1", catalog.KeyPending, "v1", t0)
	appendAt("n1", catalog.KeyActive, "v2", t0) // same time: the later report wins

	got, err := e.cat.LatestStatus(ctx, "orders-db")
	require.NoError(t, err)
	require.Len(t, got, 3)
	want := []struct {
		node, host, version string
		state               catalog.KeyState
		reported            bool
	}{
		{"n0", "host-a", "v1", catalog.KeyRewrapRequired, true},
		{"n1", "host-b", "v2", catalog.KeyActive, true},
		{"n2", "host-c", "", catalog.KeyPending, false},
	}
	for i, w := range want {
		require.Equal(t, w.node, got[i].NodeID)
		require.Equal(t, w.host, got[i].Host)
		require.Equal(t, w.version, got[i].KeyVersionID, w.node)
		require.Equal(t, w.state, got[i].State, w.node)
		require.Equal(t, w.reported, got[i].Reported, w.node)
	}
	require.Equal(t, "a1b2c3", got[0].CheckValue)
	require.True(t, t0.Add(2*time.Minute).Equal(got[0].ReportedAt))
}

func TestLatestStatus_Instances(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.cat.LatestStatus(ctx, "missing-db")
	require.ErrorIs(t, err, catalog.ErrNotFound)
	require.ErrorContains(t, err, "missing-db")

	_, err = e.cat.CreateInstance(ctx, sampleInstance("empty-db"))
	require.NoError(t, err)
	got, err := e.cat.LatestStatus(ctx, "empty-db")
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestReportHistory_OrderAndFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, r := range []struct {
		node  string
		state catalog.KeyState
		at    time.Duration
	}{
		{"n1", catalog.KeyActive, 3 * time.Second},
		{"n0", catalog.KeyPending, 0},
		{"n0", catalog.KeyActive, 2 * time.Second},
	} {
		rep := report("orders-db", r.node, r.state)
		rep.ReportedAt, rep.Detail = t0.Add(r.at), string(rune('a'+i))
		_, err := e.cat.AppendReport(ctx, rep)
		require.NoError(t, err)
	}
	all, err := e.cat.ReportHistory(ctx, "orders-db", "")
	require.NoError(t, err)
	require.Equal(t, []string{"b", "c", "a"}, details(all))

	n0, err := e.cat.ReportHistory(ctx, "orders-db", "n0")
	require.NoError(t, err)
	require.Equal(t, []string{"b", "c"}, details(n0))
}

func details(rs []catalog.KeyStatusReport) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Detail)
	}
	return out
}

func withRole(r catalog.KeyStatusReport, role string) catalog.KeyStatusReport {
	r.Role = role
	return r
}
