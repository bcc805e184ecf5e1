package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// correlated is ctx carrying a fresh correlation ID, as a careful caller
// of the kp client sends it, and that ID.
func correlated() (context.Context, string) {
	id := uuid.New()
	return kp.NewContextWithCorrelationID(ctx, &id), id.String()
}

// onlyRecord returns the one record of correlation ID id.
func onlyRecord(t *testing.T, env *emulatortest.Env, id string) emulator.ActivityRecord {
	t.Helper()
	recs := env.Server.Activity(emulator.ActivityFilter{CorrelationID: id})
	require.Len(t, recs, 1, "records of correlation ID %s: %+v", id, recs)
	return recs[0]
}

func TestActivity_RecordsCallerKeyAndCorrelationID(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k, err := c.CreateKeyWithAliases(ctx, "audited", nil, false, []string{"audited-alias"})
	require.NoError(t, err)

	cctx, id := correlated()
	require.NoError(t, c.Rotate(cctx, "audited-alias", ""))
	got := onlyRecord(t, env, id)
	require.WithinDuration(t, time.Now(), got.Time, time.Minute)
	require.Equal(t, emulator.ActivityRecord{
		Time: got.Time, InstanceID: env.Dev.KPInstanceID, IAMID: env.Dev.OperatorIAMID, Action: emulator.OpRotate,
		KeyID: k.ID, CorrelationID: id, Status: http.StatusNoContent, Outcome: "success",
	}, got, "the alias is resolved to the key ID")

	created := env.Server.Activity(emulator.ActivityFilter{Action: emulator.OpCreateKey})
	require.Len(t, created, 1)
	require.Equal(t, k.ID, created[0].KeyID, "a create names the key it made")
	require.Equal(t, http.StatusCreated, created[0].Status)
}

func TestActivity_RefusedCallsRecordFailureAndReason(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "dual")
	_, err := c.SetDualAuthDeletePolicy(ctx, k.ID, true)
	require.NoError(t, err)
	require.NoError(t, c.InitiateDualAuthDelete(ctx, k.ID))

	cctx, id := correlated()
	_, err = c.DeleteKey(cctx, k.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusConflict, "AUTHORIZATIONS_NOT_MET")
	got := onlyRecord(t, env, id)
	require.Equal(t, []string{emulator.OpDeleteKey, env.Dev.OperatorIAMID, k.ID, "AUTHORIZATIONS_NOT_MET", "failure"},
		[]string{got.Action, got.IAMID, got.KeyID, got.Reason, got.Outcome})
	require.Equal(t, http.StatusConflict, got.Status)
	set := env.Server.Activity(emulator.ActivityFilter{KeyID: k.ID, Action: emulator.OpSetKeyForDeletion})
	require.Len(t, set, 1)
	require.Equal(t, env.Dev.OperatorIAMID, set[0].IAMID)

	tests := []struct {
		name, token, iamID, reason string
		faults                     emulator.Faults
		status                     int
	}{
		{"no token", "", "", "", emulator.Faults{}, http.StatusUnauthorized},
		{"forged token", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", "", "", emulator.Faults{}, http.StatusUnauthorized},
		{"injected 503", env.Token(t, env.Dev.OperatorAPIKey), env.Dev.OperatorIAMID, "SERVICE_UNAVAILABLE_ERR", emulator.Faults{Rate503: 1}, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.Server.SetFaults(tc.faults)
			defer env.Server.SetFaults(emulator.Faults{})
			id := uuid.NewString()
			resp := env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/rotate", tc.token, nil, map[string]string{"Correlation-Id": id})
			require.Equal(t, tc.status, resp.Status)
			got := onlyRecord(t, env, id)
			require.Equal(t, []string{emulator.OpRotate, tc.iamID, k.ID, tc.reason, "failure"},
				[]string{got.Action, got.IAMID, got.KeyID, got.Reason, got.Outcome})
		})
	}
}

func TestActivity_HoldsNoSecret(t *testing.T) {
	env := emulatortest.Start(t)
	env.AuthorizeService(t)
	c := env.OperatorClient(t)
	k := rootKey(t, c, "secretive")
	std, err := c.CreateImportedStandardKey(ctx, "std", nil, string(b64([]byte("standard-secret-material"))))
	require.NoError(t, err)
	_, err = c.GetKey(ctx, std.ID)
	require.NoError(t, err)
	svc := env.ServiceClient(t)
	plaintext := b64([]byte("known plaintext DEK 0123456789ab"))
	ct, err := svc.Wrap(ctx, k.ID, plaintext, &[]string{"aad"})
	require.NoError(t, err)
	_, err = svc.Unwrap(ctx, k.ID, ct, &[]string{"aad"})
	require.NoError(t, err)
	gen, genCT, err := svc.WrapCreateDEK(ctx, k.ID, nil)
	require.NoError(t, err)

	tok := env.Token(t, env.Dev.OperatorAPIKey)
	page := readActivity(t, env, tok, env.Dev.KPInstanceID, nil)
	require.Equal(t, http.StatusOK, page.Status)
	onDisk, err := os.ReadFile(filepath.Join(env.DataDir, "activity.jsonl"))
	require.NoError(t, err)
	require.Contains(t, string(onDisk), `"action":"unwrap"`)
	secrets := map[string]string{
		"operator API key": env.Dev.OperatorAPIKey, "service API key": env.Dev.ServiceAPIKey,
		"plaintext": string(plaintext), "ciphertext": string(ct), "generated DEK": string(gen),
		"generated ciphertext": string(genCT), "standard material": string(b64([]byte("standard-secret-material"))),
	}
	for i, tok := range env.Tokens() {
		secrets[fmt.Sprintf("token %d (its signature)", i)] = tok[len(tok)-20:]
	}
	for where, text := range map[string]string{"endpoint": string(page.Body), "activity.jsonl": string(onDisk)} {
		for name, secret := range secrets {
			require.False(t, strings.Contains(text, secret), "%s leaked into the %s", name, where)
		}
	}
}

// readActivity calls GET /admin/v1/activity on instance with query.
func readActivity(t *testing.T, env *emulatortest.Env, token, instance string, query url.Values) emulatortest.Response {
	t.Helper()
	h := map[string]string{}
	if instance != "" {
		h["Bluemix-Instance"] = instance
	}
	path := "/admin/v1/activity"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return env.Do(t, http.MethodGet, path, token, nil, h)
}

func TestActivityEndpoint_FiltersOneInstance(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AddKPInstance(t, "other-instance")
	c := env.OperatorClient(t)
	a, b := rootKey(t, c, "key-a"), rootKey(t, c, "key-b")
	require.NoError(t, c.Rotate(ctx, a.ID, ""))
	require.NoError(t, c.Rotate(ctx, b.ID, ""))
	rootKey(t, env.KPClient(t, env.Dev.OperatorAPIKey, "other-instance"), "elsewhere")
	tok := env.Token(t, env.Dev.ApproverAPIKey)

	var page struct {
		Records []emulator.ActivityRecord `json:"records"`
	}
	resp := readActivity(t, env, tok, env.Dev.KPInstanceID, url.Values{"keyId": {a.ID}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &page)
	require.Len(t, page.Records, 2)
	require.Equal(t, []string{emulator.OpCreateKey, emulator.OpRotate}, []string{page.Records[0].Action, page.Records[1].Action}, "oldest first")
	require.False(t, page.Records[1].Time.Before(page.Records[0].Time))
	require.Contains(t, string(resp.Body), `"correlationId":`)

	readActivity(t, env, tok, env.Dev.KPInstanceID, url.Values{"action": {emulator.OpCreateKey}}).JSON(t, &page)
	require.Len(t, page.Records, 2, "the other instance's create is not listed")
	for _, r := range page.Records {
		require.Equal(t, env.Dev.KPInstanceID, r.InstanceID)
	}
	readActivity(t, env, tok, env.Dev.KPInstanceID, url.Values{"correlationId": {"nobody-sent-this"}}).JSON(t, &page)
	require.Empty(t, page.Records)
	require.Len(t, env.Server.Activity(emulator.ActivityFilter{InstanceID: "other-instance"}), 1)
}

func TestActivityEndpoint_OnlyUsersWithARole(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AuthorizeService(t)
	s := env.Server
	require.NoError(t, s.AddUser(env.Dev.AccountID, "no-role-key", "IBMid-no-role", nil))
	require.NoError(t, s.AddUser(env.Dev.AccountID, "reader-key", "IBMid-reader", map[string]string{env.Dev.KPInstanceID: "Reader"}))
	require.NoError(t, s.AddAccount("acct-2"))
	require.NoError(t, s.AddKPInstance("acct-2", "inst-2"))
	require.NoError(t, s.AddUser("acct-2", "stranger-key", "IBMid-stranger", map[string]string{"inst-2": "Manager"}))
	tests := []struct {
		name, apiKey, instance, code string
		status                       int
	}{
		{"reader", "reader-key", env.Dev.KPInstanceID, "", http.StatusOK},
		{"no token", "", env.Dev.KPInstanceID, "", http.StatusUnauthorized},
		{"service ID", env.Dev.ServiceAPIKey, env.Dev.KPInstanceID, "INSUFFICIENT_ROLE_ERR", http.StatusForbidden},
		{"user without a role", "no-role-key", env.Dev.KPInstanceID, "INSUFFICIENT_ROLE_ERR", http.StatusForbidden},
		{"another account's instance", "stranger-key", env.Dev.KPInstanceID, "", http.StatusUnauthorized},
		{"no Bluemix-Instance", env.Dev.OperatorAPIKey, "", "INVALID_FIELD_ERR", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := ""
			if tc.apiKey != "" {
				tok = env.Token(t, tc.apiKey)
			}
			resp := readActivity(t, env, tok, tc.instance, nil)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			if tc.status != http.StatusOK {
				requireReason(t, resp, tc.code)
			}
		})
	}
	require.Empty(t, s.Activity(emulator.ActivityFilter{Action: emulator.OpActivity}), "reading the record is not recorded")
}

func TestActivity_SurvivesRestart(t *testing.T) {
	first := emulatortest.Start(t)
	c := first.OperatorClient(t)
	k := rootKey(t, c, "remembered")
	cctx, id := correlated()
	require.NoError(t, c.Rotate(cctx, k.ID, ""))
	before := first.Server.Activity(emulator.ActivityFilter{})
	require.NoError(t, first.Server.Close())
	info, err := os.Stat(filepath.Join(first.DataDir, "activity.jsonl"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	second := emulatortest.Start(t, emulatortest.WithDataDir(first.DataDir))
	after := second.Server.Activity(emulator.ActivityFilter{})
	require.NotEmpty(t, before)
	require.Equal(t, before, after, "times to the nanosecond too")
	require.Equal(t, k.ID, onlyRecord(t, second, id).KeyID)
	_, err = second.OperatorClient(t).GetKey(ctx, k.ID)
	require.NoError(t, err)
	require.Len(t, second.Server.Activity(emulator.ActivityFilter{}), len(before)+1, "the new emulator appends")
}
