// Package clientcache keeps one client per key (a Key Protect instance id),
// built on first use and reused afterwards, so that every client keeps its
// IAM token. Control-plane activities and node agents both use it.
//
// It imports nothing of ours.
package clientcache

import (
	"fmt"
	"sync"
)

// Cache builds a V per key once with its build function and keeps it. It is
// safe for concurrent use.
type Cache[V any] struct {
	mu    sync.Mutex
	build func(key string) (V, error)
	byKey map[string]V
}

// New returns a cache over build; a nil build serves only what Put stored.
func New[V any](build func(key string) (V, error)) *Cache[V] {
	return &Cache[V]{build: build, byKey: map[string]V{}}
}

// Put stores v for key, as if built.
func (c *Cache[V]) Put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey[key] = v
}

// Get returns the value of key, building it on first use. A failed build is
// not kept: the next Get tries again.
func (c *Cache[V]) Get(key string) (V, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.byKey[key]; ok {
		return v, nil
	}
	var zero V
	if c.build == nil {
		return zero, fmt.Errorf("no client for %s", key)
	}
	v, err := c.build(key)
	if err != nil {
		return zero, err
	}
	c.byKey[key] = v
	return v, nil
}
