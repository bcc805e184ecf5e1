package node

import (
	"context"
	"sync"

	"github.com/byokflow/byokflow/encryption"
)

// nodeRef names one database node served by the agent.
type nodeRef struct {
	InstanceID string
	NodeID     string
}

// liveKey is a node's DEK in memory. rewrapPending records that Key Protect,
// at the last unwrap, offered the DEK rewrapped under a newer root key
// version than the slot's.
type liveKey struct {
	dek           *encryption.DataKey
	rewrapPending bool
}

// keyring holds the live DEKs of the agent's nodes and serializes the work
// on each node. The plaintext of a DEK never leaves its *encryption.DataKey.
type keyring struct {
	mu      sync.Mutex
	live    map[nodeRef]liveKey
	dropped map[nodeRef]Slot // the slot each dropped node had, for its reports
	locks   map[nodeRef]chan struct{}
}

func newKeyring() *keyring {
	return &keyring{live: map[nodeRef]liveKey{}, dropped: map[nodeRef]Slot{},
		locks: map[nodeRef]chan struct{}{}}
}

// lock takes the per-node lock, so that a retried activity whose first
// attempt still runs (or two activities for one node) cannot interleave.
// It gives up when ctx ends.
func (r *keyring) lock(ctx context.Context, n nodeRef) (unlock func(), err error) {
	ch := r.lockOf(n)
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// tryLock takes the per-node lock only if it is free at once: background
// work (Watch) steps aside for the activity that holds it.
func (r *keyring) tryLock(n nodeRef) (unlock func(), ok bool) {
	ch := r.lockOf(n)
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, true
	default:
		return nil, false
	}
}

// lockOf returns the node's lock, making it once.
func (r *keyring) lockOf(n nodeRef) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.locks[n]
	if !ok {
		ch = make(chan struct{}, 1)
		r.locks[n] = ch
	}
	return ch
}

// get returns the node's live key, if any.
func (r *keyring) get(n nodeRef) (liveKey, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.live[n]
	return k, ok
}

// liveNodes lists the nodes whose DEK is in memory.
func (r *keyring) liveNodes() []nodeRef {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]nodeRef, 0, len(r.live))
	for n := range r.live {
		out = append(out, n)
	}
	return out
}

// put makes k the node's live key, destroying a different one it replaces.
func (r *keyring) put(n nodeRef, k liveKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.live[n]; ok && old.dek != k.dek {
		old.dek.Destroy()
	}
	r.live[n] = k
	delete(r.dropped, n)
}

// adopt records that Key Protect vouched for the node's DEK under the
// slot's current version. A DEK already in memory is kept (dek is the same
// key, checked against the slot's check value), so that holders of it are
// not disturbed, and dek is destroyed; otherwise dek becomes the live key.
func (r *keyring) adopt(n nodeRef, dek *encryption.DataKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.live[n]; ok && old.dek != dek {
		dek.Destroy()
		dek = old.dek
	}
	r.live[n] = liveKey{dek: dek}
	delete(r.dropped, n)
}

// flush destroys the node's live key, if any, and reports whether there was
// one.
func (r *keyring) flush(n nodeRef) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.live[n]
	if ok {
		k.dek.Destroy()
		delete(r.live, n)
	}
	return ok
}

// drop flushes the node's key and remembers that it was dropped on purpose,
// with the slot it had (zero if unknown), so that ReportStatus says
// destroyed rather than pending.
func (r *keyring) drop(n nodeRef, slot Slot) bool {
	had := r.flush(n)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, again := r.dropped[n]; !again || slot.RootKeyID != "" {
		r.dropped[n] = slot
	}
	return had
}

// droppedSlot returns the slot of a node this process dropped.
func (r *keyring) droppedSlot(n nodeRef) (Slot, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slot, ok := r.dropped[n]
	return slot, ok
}

// destroyAll zeroizes every live key.
func (r *keyring) destroyAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for n, k := range r.live {
		k.dek.Destroy()
		delete(r.live, n)
	}
}

// claim checks a node activity's input (invalid is the check's error) and
// takes the node's lock, so that work on one node is serialized; the caller
// must call unlock.
func (a *Agent) claim(ctx context.Context, op, instanceID, nodeID string, invalid error) (nodeRef, func(), error) {
	if invalid != nil {
		return nodeRef{}, nil, invalidInput(op, invalid)
	}
	n := nodeRef{InstanceID: instanceID, NodeID: nodeID}
	unlock, err := a.keys.lock(ctx, n)
	return n, unlock, err
}
