package emulator

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGlobMatch_Patterns(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"a*", "abc", true},
		{"*c", "abc", true},
		{"a*c", "abbbc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "acb", false},
		{"*", "", true},
		{"ab*ba", "aba", false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"/"+tc.s, func(t *testing.T) {
			require.Equal(t, tc.want, globMatch(tc.pattern, tc.s))
		})
	}
}

func testKey(t *testing.T) *key {
	t.Helper()
	a, err := newGCM(make([]byte, 32))
	require.NoError(t, err)
	return &key{ID: "key-1", Versions: []*keyVersion{{ID: "key-1", aead: a}}}
}

func TestWrapDEK_BoundToKeyVersionAndAAD(t *testing.T) {
	k := testKey(t)
	ct := wrapDEK(k.ID, k.latest(), []byte("dek"), []string{"a"})
	doc, err := base64.StdEncoding.DecodeString(ct)
	require.NoError(t, err)
	got, v, err := unwrapDEK(k, doc, []string{"a"})
	require.NoError(t, err)
	require.Equal(t, []byte("dek"), got)
	require.Equal(t, "key-1", v.ID)

	_, _, err = unwrapDEK(k, doc, []string{"b"})
	require.ErrorIs(t, err, errCiphertext)
	other := testKey(t)
	other.ID = "key-2" // same material, other key: refused
	_, _, err = unwrapDEK(other, doc, []string{"a"})
	require.ErrorIs(t, err, errCiphertext)
	_, _, err = unwrapDEK(k, []byte(`{"handle":"key-1","iv":"!","ciphertext":""}`), nil)
	require.ErrorIs(t, err, errCiphertext)
}

func TestTokens_SignVerifyExpire(t *testing.T) {
	tk := &tokens{secret: make([]byte, 32)}
	now := time.Now()
	tok := tk.issue(claims{IAMID: "me", Exp: now.Add(time.Hour).Unix()})
	c, err := tk.verify(tok, now)
	require.NoError(t, err)
	require.Equal(t, "me", c.IAMID)
	_, err = tk.verify(tok, now.Add(2*time.Hour))
	require.ErrorIs(t, err, errBadToken, "cached tokens still expire")
	other := &tokens{secret: []byte("another secret of thirty-two by")}
	_, err = other.verify(tok, now)
	require.ErrorIs(t, err, errBadToken)
	rt := tk.issueRefresh("me", now)
	id, err := tk.verifyRefresh(rt, now)
	require.NoError(t, err)
	require.Equal(t, "me", id)
	_, err = other.verifyRefresh(rt, now)
	require.ErrorIs(t, err, errBadToken)
}

func TestWriteFileAtomic_Replaces(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, writeFileAtomic(dir, "f", []byte("one"), 0o600))
	require.NoError(t, writeFileAtomic(dir, "f", []byte("two"), 0o600))
	b, err := os.ReadFile(filepath.Join(dir, "f"))
	require.NoError(t, err)
	require.Equal(t, "two", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temp file left behind")
}

func TestAllowed_Matrix(t *testing.T) {
	require.Nil(t, allowed(opUnwrap, stateDeactivated))
	require.Equal(t, codeInvalidState, allowed(opWrap, stateDeactivated).code)
	require.Equal(t, codeKeyDeleted, allowed(opRotate, stateDestroyed).code)
	require.Equal(t, codeInvalidState, allowed(opPurge, stateActive).code)
	require.Nil(t, allowed(opRestore, stateDestroyed))
}

func TestActivityLog_KeepsTheLastLimitRecords(t *testing.T) {
	dir := t.TempDir()
	a, err := openActivity(dir, 3, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	for i := range 10 {
		a.add(ActivityRecord{Action: "rotate", Status: 200 + i})
	}
	statuses := func(recs []ActivityRecord) []int {
		var out []int
		for _, r := range recs {
			out = append(out, r.Status)
		}
		return out
	}
	require.Equal(t, []int{207, 208, 209}, statuses(a.list(ActivityFilter{})))
	require.NoError(t, a.close())
	data, err := os.ReadFile(filepath.Join(dir, activityFile))
	require.NoError(t, err)
	require.Less(t, bytes.Count(data, []byte("\n")), 6, "the file is rewritten at twice the limit")

	f, err := os.OpenFile(filepath.Join(dir, activityFile), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"action":"torn`)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	again, err := openActivity(dir, 3, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, []int{207, 208, 209}, statuses(again.list(ActivityFilter{})), "a torn last line is skipped")
}
