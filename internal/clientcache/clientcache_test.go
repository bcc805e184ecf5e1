package clientcache

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCache_BuildsOncePerKey(t *testing.T) {
	builds := map[string]int{}
	c := New(func(key string) (string, error) { builds[key]++; return "client-" + key, nil })
	for range 3 {
		v, err := c.Get("a")
		require.NoError(t, err)
		require.Equal(t, "client-a", v)
	}
	_, err := c.Get("b")
	require.NoError(t, err)
	require.Equal(t, map[string]int{"a": 1, "b": 1}, builds)
}

func TestCache_FailedBuildIsRetried(t *testing.T) {
	fail := true
	c := New(func(string) (int, error) {
		if fail {
			return 0, errors.New("down")
		}
		return 7, nil
	})
	_, err := c.Get("a")
	require.EqualError(t, err, "down")
	fail = false
	v, err := c.Get("a")
	require.NoError(t, err)
	require.Equal(t, 7, v)
}

func TestCache_WithoutBuildServesOnlyPut(t *testing.T) {
	c := New[int](nil)
	c.Put("a", 1)
	v, err := c.Get("a")
	require.NoError(t, err)
	require.Equal(t, 1, v)
	_, err = c.Get("b")
	require.EqualError(t, err, "no client for b")
}
