package emulator_test

import (
	"net/http"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func ids(keys []kp.Key) []string {
	out := []string{}
	for _, k := range keys {
		out = append(out, k.ID)
	}
	return out
}

func TestListKeys_Filters(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	root := rootKey(t, c, "alpha-root")
	std, err := c.CreateStandardKey(ctx, "beta-standard", nil)
	require.NoError(t, err)
	gone, err := c.CreateKeyWithAliases(ctx, "gamma-gone", nil, false, []string{"gamma-alias"})
	require.NoError(t, err)
	_, err = c.DeleteKey(ctx, gone.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	u32 := func(n uint32) *uint32 { return &n }
	f := func(b bool) *bool { return &b }
	search := func(s string, opts ...kp.SearchOpts) *string { q, _ := kp.GetKeySearchQuery(&s, opts...); return q }
	tests := []struct {
		name string
		opts *kp.ListKeysOptions
		want []string
	}{
		{"default excludes destroyed", nil, []string{root.ID, std.ID}},
		{"state 5", &kp.ListKeysOptions{State: []kp.KeyState{kp.Destroyed}}, []string{gone.ID}},
		{"state 1 and 5", &kp.ListKeysOptions{State: []kp.KeyState{kp.Active, kp.Destroyed}}, []string{root.ID, std.ID, gone.ID}},
		{"extractable", &kp.ListKeysOptions{Extractable: f(true)}, []string{std.ID}},
		{"limit", &kp.ListKeysOptions{Limit: u32(1)}, []string{root.ID}},
		{"offset", &kp.ListKeysOptions{Limit: u32(5), Offset: u32(1)}, []string{std.ID}},
		{"search name", &kp.ListKeysOptions{Search: search("beta")}, []string{std.ID}},
		{"search exact", &kp.ListKeysOptions{Search: search("alpha", kp.WithExactMatch())}, []string{}},
		{"search not", &kp.ListKeysOptions{Search: search("alpha", kp.ApplyNot())}, []string{std.ID}},
		{"search alias in state 5", &kp.ListKeysOptions{State: []kp.KeyState{kp.Destroyed}, Search: search("gamma-alias", kp.AddAliasScope(), kp.WithExactMatch())}, []string{gone.ID}},
		{"sort desc", &kp.ListKeysOptions{Sort: kp.GetKeySortStr(kp.WithCreationDateDesc())}, []string{std.ID, root.ID}},
		{"filter", &kp.ListKeysOptions{Filter: ptrTo(kp.GetFilterQueryBuilder().CreationDate().GreaterThan(time.Now().Add(-time.Hour)).Extractable(false).Build())}, []string{root.ID}},
		{"filter none", &kp.ListKeysOptions{Filter: ptrTo(kp.GetFilterQueryBuilder().ExpirationDate().None().Build())}, []string{root.ID, std.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := c.ListKeys(ctx, tc.opts)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(keys.Keys))
			require.Equal(t, len(tc.want), keys.Metadata.NumberOfKeys)
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestListKeys_InvalidQuery(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	for _, q := range []string{"limit=0", "limit=5001", "limit=x", "offset=-1", "state=4", "state=a", "extractable=maybe", "sort=name", "filter=creationDate=xx"} {
		t.Run(q, func(t *testing.T) {
			resp := env.Do(t, http.MethodGet, "/api/v2/keys?"+q, tok, nil, nil)
			require.Equal(t, http.StatusBadRequest, resp.Status)
			requireReason(t, resp, "INVALID_QUERY_PARAM_ERR")
		})
	}
}

func TestListKeys_KeyRingHeaderFilters(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	require.NoError(t, c.CreateKeyRing(ctx, "ring-b"))
	rc := env.OperatorClient(t)
	rc.Config.KeyRing = "ring-b"
	inRing, err := rc.CreateRootKey(ctx, "in-ring", nil)
	require.NoError(t, err)
	rootKey(t, c, "outside")
	keys, err := rc.GetKeys(ctx, 0, 0)
	require.NoError(t, err)
	require.Equal(t, []string{inRing.ID}, ids(keys.Keys))
	rings, err := c.GetKeyRings(ctx)
	require.NoError(t, err)
	require.Len(t, rings.KeyRings, 2)
	require.Equal(t, "default", rings.KeyRings[0].ID)
}

func TestListKeyVersions_NewestFirst(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "versioned")
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	require.NoError(t, c.RotateV2(ctx, k.ID, nil))
	tc := true
	vs, err := c.ListKeyVersions(ctx, k.ID, &kp.ListKeyVersionsOptions{TotalCount: &tc})
	require.NoError(t, err)
	require.Len(t, vs.KeyVersion, 3)
	require.Equal(t, k.ID, vs.KeyVersion[2].ID, "oldest version is the key ID")
	require.Equal(t, uint32(3), *vs.Metadata.TotalCount)
	latest, err := c.GetKey(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, latest.KeyVersion.ID, vs.KeyVersion[0].ID)
	require.NotNil(t, latest.LastRotateDate)

	lim := uint32(1)
	vs, err = c.ListKeyVersions(ctx, k.ID, &kp.ListKeyVersionsOptions{Limit: &lim})
	require.NoError(t, err)
	require.Len(t, vs.KeyVersion, 1)
	require.Nil(t, vs.Metadata.TotalCount)

	require.NoError(t, c.DisableKey(ctx, k.ID))
	_, err = c.ListKeyVersions(ctx, k.ID, nil)
	requireKPErr(t, err, http.StatusConflict, "KEY_ACTION_INVALID_STATE_ERR")
	all := true
	vs, err = c.ListKeyVersions(ctx, k.ID, &kp.ListKeyVersionsOptions{AllKeyStates: &all})
	require.NoError(t, err)
	require.Len(t, vs.KeyVersion, 3)
}
