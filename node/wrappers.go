package node

import (
	"context"
	"fmt"
	"sync"

	"github.com/byokflow/byokflow/encryption"
)

// wrappers hands out the KeyWrapper of each Key Protect instance: the
// default one for "", the others built once by Config.WrapperFor and
// cached, so that every client keeps its IAM token.
type wrappers struct {
	def   encryption.KeyWrapper
	build func(kpInstanceID string) (encryption.KeyWrapper, error)
	mu    sync.Mutex
	byID  map[string]encryption.KeyWrapper
}

func newWrappers(def encryption.KeyWrapper, build func(string) (encryption.KeyWrapper, error)) *wrappers {
	return &wrappers{def: def, build: build, byID: map[string]encryption.KeyWrapper{}}
}

// wrapperFor returns the KeyWrapper of Key Protect instance kpInstanceID;
// "" (and every instance, without Config.WrapperFor) is the default.
func (a *Agent) wrapperFor(kpInstanceID string) (encryption.KeyWrapper, error) {
	w := a.wrappers
	if kpInstanceID == "" || w.build == nil {
		return w.def, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if k, ok := w.byID[kpInstanceID]; ok {
		return k, nil
	}
	k, err := w.build(kpInstanceID)
	if err != nil {
		return nil, fmt.Errorf("dial Key Protect instance %s on host %s: %w", kpInstanceID, a.host, err)
	}
	w.byID[kpInstanceID] = k
	return k, nil
}

// wrapKey wraps dek under rootKeyID of Key Protect instance kpInstanceID.
func (a *Agent) wrapKey(ctx context.Context, kpInstanceID, rootKeyID string, dek *encryption.DataKey,
	aad []string) (encryption.WrappedKey, error) {
	w, err := a.wrapperFor(kpInstanceID)
	if err != nil {
		return encryption.WrappedKey{}, err
	}
	return w.WrapKey(ctx, rootKeyID, dek, aad)
}
