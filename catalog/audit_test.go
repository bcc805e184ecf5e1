package catalog_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func TestAppendAudit_StoresAndLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.cat.AppendAudit(ctx, catalog.AuditEvent{
		Actor: "operator", Operation: "provision", InstanceID: "orders-db", RootKeyID: "root-key-1",
		WorkflowID: "provision-orders-db", Detail: json.RawMessage(`{"nodes": 2}`),
	})
	require.NoError(t, err)
	require.NotZero(t, first.ID)
	require.False(t, first.At.IsZero())
	require.JSONEq(t, `{"nodes": 2}`, string(first.Detail))

	second, err := e.cat.AppendAudit(ctx, catalog.AuditEvent{Actor: "scheduler", Operation: "rotate", InstanceID: "other-db"})
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(second.Detail))

	mine, err := e.cat.ListAudit(ctx, "orders-db")
	require.NoError(t, err)
	require.Equal(t, []catalog.AuditEvent{first}, mine)
	all, err := e.cat.ListAudit(ctx, "")
	require.NoError(t, err)
	require.Equal(t, []catalog.AuditEvent{first, second}, all)
}

func TestAppendAudit_EventKeyIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	ev := catalog.AuditEvent{Actor: "worker", Operation: "shred", InstanceID: "orders-db", EventKey: "wf-1/shred"}
	first, err := e.cat.AppendAudit(ctx, ev)
	require.NoError(t, err)
	ev.Detail = json.RawMessage(`{"retry": true}`)
	again, err := e.cat.AppendAudit(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, 1, count(t, e.raw, "SELECT count(*) FROM audit_events"))
}

func TestAuditAndCertificates_AppendOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.AppendAudit(ctx, catalog.AuditEvent{Actor: "operator", Operation: "provision"})
	require.NoError(t, err)
	_, err = e.cat.PutShredCertificate(ctx, "orders-db", json.RawMessage(`{"key_state": "destroyed"}`))
	require.NoError(t, err)

	for _, sql := range []string{
		"UPDATE audit_events SET actor = 'someone-else'",
		"DELETE FROM audit_events",
		"TRUNCATE audit_events",
		"UPDATE shred_certificates SET certificate = '{}'",
		"DELETE FROM shred_certificates",
		"TRUNCATE shred_certificates",
	} {
		t.Run(sql, func(t *testing.T) {
			_, err := e.raw.Exec(ctx, sql)
			requirePgCode(t, err, codeRestrictViolation)
		})
	}
	require.Equal(t, 1, count(t, e.raw, "SELECT count(*) FROM audit_events WHERE actor = 'operator'"))
	require.Equal(t, 1, count(t, e.raw, "SELECT count(*) FROM shred_certificates"))
}

func TestPutShredCertificate_FirstWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.GetShredCertificate(ctx, "orders-db")
	require.ErrorIs(t, err, catalog.ErrNotFound)

	first, err := e.cat.PutShredCertificate(ctx, "orders-db", json.RawMessage(`{"attempt": 1}`))
	require.NoError(t, err)
	again, err := e.cat.PutShredCertificate(ctx, "orders-db", json.RawMessage(`{"attempt": 2}`))
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.JSONEq(t, `{"attempt": 1}`, string(again.Certificate))

	got, err := e.cat.GetShredCertificate(ctx, "orders-db")
	require.NoError(t, err)
	require.Equal(t, first, got)

	_, err = e.cat.PutShredCertificate(ctx, "missing-db", json.RawMessage(`{}`))
	require.ErrorIs(t, err, catalog.ErrNotFound)
	require.ErrorContains(t, err, "missing-db")
}

func TestListAuditOfRuns_AddsTheRunsEventsThatNameNoInstance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	add := func(ev catalog.AuditEvent) catalog.AuditEvent {
		ev.Actor = "byokflow"
		stored, err := e.cat.AppendAudit(ctx, ev)
		require.NoError(t, err)
		return stored
	}
	call := add(catalog.AuditEvent{Operation: "kp.rotate", RootKeyID: "key-1", CorrelationID: "c-rotate", IAMID: "IBMid-op"})
	mine := add(catalog.AuditEvent{Operation: "instance.key-version", InstanceID: "orders-db", CorrelationID: "c-rotate"})
	add(catalog.AuditEvent{Operation: "kp.rotate", RootKeyID: "key-2", CorrelationID: "c-other", IAMID: "IBMid-op"})
	add(catalog.AuditEvent{Operation: "instance.create", InstanceID: "other-db", CorrelationID: "c-other"})
	old := add(catalog.AuditEvent{Operation: "instance.active", InstanceID: "orders-db"})
	add(catalog.AuditEvent{Operation: "instance.active", InstanceID: "third-db"})

	got, err := e.cat.ListAuditOfRuns(ctx, "orders-db")
	require.NoError(t, err)

	require.Equal(t, []catalog.AuditEvent{call, mine, old}, got)
	require.Equal(t, "IBMid-op", got[0].IAMID)
	require.Equal(t, "c-rotate", got[0].CorrelationID)
}
