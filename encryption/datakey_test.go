package encryption

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewDataKey_IsRandom(t *testing.T) {
	a, err := NewDataKey()
	require.NoError(t, err)
	b, err := NewDataKey()
	require.NoError(t, err)
	ka, err := a.CheckValue()
	require.NoError(t, err)
	kb, err := b.CheckValue()
	require.NoError(t, err)
	require.NotEqual(t, ka, kb)
	require.NoError(t, a.WithBytes(func(key []byte) error {
		require.Len(t, key, DataKeySize)
		require.NotEqual(t, make([]byte, DataKeySize), key)
		return nil
	}))
}

func TestNewDataKeyFromBytes_CopiesInput(t *testing.T) {
	in := testKeyBytes()
	k, err := NewDataKeyFromBytes(in)
	require.NoError(t, err)
	clear(in)
	require.NoError(t, k.WithBytes(func(key []byte) error {
		require.Equal(t, testKeyBytes(), key)
		return nil
	}))
}

func TestNewDataKeyFromBytes_WrongLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		_, err := NewDataKeyFromBytes(make([]byte, n))
		require.Error(t, err, "length %d", n)
	}
}

func TestDataKey_CheckValue(t *testing.T) {
	m := hmac.New(sha256.New, testKeyBytes())
	m.Write([]byte("byokflow key check value v1"))
	want := hex.EncodeToString(m.Sum(nil)[:8])
	got, err := testKey(t).CheckValue()
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Len(t, got, 16)
	other, err := otherKey(t).CheckValue()
	require.NoError(t, err)
	require.NotEqual(t, got, other)
}

func TestDataKey_DestroyZeroesAndBlocksUse(t *testing.T) {
	k := testKey(t)
	alias := *k // copies share the key
	sealed, err := Seal(k, []byte("x"), "c")
	require.NoError(t, err)
	k.Destroy()
	require.Equal(t, [DataKeySize]byte{}, *k.s.key, "key bytes must be zero")
	require.True(t, k.Destroyed())
	require.True(t, alias.Destroyed())
	_, err = k.CheckValue()
	require.ErrorIs(t, err, ErrKeyDestroyed)
	called := false
	require.ErrorIs(t, alias.WithBytes(func([]byte) error { called = true; return nil }), ErrKeyDestroyed)
	require.False(t, called)
	_, err = Seal(k, []byte("x"), "c")
	require.ErrorIs(t, err, ErrKeyDestroyed)
	_, err = Open(k, sealed, "c")
	require.ErrorIs(t, err, ErrKeyDestroyed)
	_, err = NewWriter(&bytes.Buffer{}, k, testInfo())
	require.ErrorIs(t, err, ErrKeyDestroyed)
	require.Equal(t, "DataKey(destroyed)", k.String())
	k.Destroy() // idempotent
}

func TestDataKey_ZeroValueIsUnusable(t *testing.T) {
	var k DataKey
	require.True(t, k.Destroyed())
	_, err := k.CheckValue()
	require.ErrorIs(t, err, ErrKeyDestroyed)
	var nilKey *DataKey
	require.ErrorIs(t, nilKey.WithBytes(func([]byte) error { return nil }), ErrKeyDestroyed)
	_, err = NewWriter(&bytes.Buffer{}, nil, testInfo())
	require.ErrorIs(t, err, ErrKeyDestroyed)
}

func TestDataKey_OutputRevealsNoSecret(t *testing.T) {
	raw := []byte("\x9f\x13\xa7\x5c\xe2\x01\x44\xbb\x90\x6d\x3e\xf8\x27\xc5\x12\x8a" +
		"\x71\xd9\x0b\x66\xac\x35\xe4\x58\x2f\x93\xc1\x7e\x04\xb6\x4d\xea")
	k, err := NewDataKeyFromBytes(raw)
	require.NoError(t, err)
	kcv, err := k.CheckValue()
	require.NoError(t, err)

	type holder struct {
		Ptr *DataKey
		Val DataKey
		key DataKey
	}
	h := holder{Ptr: k, Val: *k, key: *k}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
	}
	outputs = append(outputs, k.String(), k.GoString(), fmt.Sprint(k), fmt.Sprintln(*k))
	for _, v := range []any{k, *k, h, &h, []*DataKey{k}, map[string]DataKey{"k": *k}} {
		j, err := json.Marshal(v)
		require.NoError(t, err)
		outputs = append(outputs, string(j))
	}
	text, err := k.MarshalText()
	require.NoError(t, err)
	outputs = append(outputs, string(text))
	var logs bytes.Buffer
	for _, handler := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(handler).Info("key", "dek", k, "val", *k, "holder", h)
	}
	outputs = append(outputs, logs.String())

	secrets := []string{string(raw), hex.EncodeToString(raw[:4]), strings.ToUpper(hex.EncodeToString(raw[:4])),
		base64.StdEncoding.EncodeToString(raw[:6]), base64.RawURLEncoding.EncodeToString(raw[:6]),
		fmt.Sprint(raw[:4])[1:12], `\x9f\x13`, "159 19 167"}
	for _, out := range outputs {
		for _, s := range secrets {
			require.NotContains(t, out, s, "output %q", out)
		}
	}
	require.Contains(t, k.String(), kcv)
	require.Contains(t, logs.String(), kcv)
}
