package node

import (
	"context"
	"fmt"

	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/internal/clientcache"
)

// wrappers hands out the KeyWrapper of each Key Protect instance: the
// default one for "", the others built once by Config.WrapperFor and
// cached, so that every client keeps its IAM token.
type wrappers struct {
	def  encryption.KeyWrapper
	byID *clientcache.Cache[encryption.KeyWrapper] // nil: every instance is the default
}

func newWrappers(def encryption.KeyWrapper, build func(string) (encryption.KeyWrapper, error)) *wrappers {
	w := &wrappers{def: def}
	if build != nil {
		w.byID = clientcache.New(build)
	}
	return w
}

// wrapperFor returns the KeyWrapper of Key Protect instance kpInstanceID;
// "" (and every instance, without Config.WrapperFor) is the default.
func (a *Agent) wrapperFor(kpInstanceID string) (encryption.KeyWrapper, error) {
	if kpInstanceID == "" || a.wrappers.byID == nil {
		return a.wrappers.def, nil
	}
	k, err := a.wrappers.byID.Get(kpInstanceID)
	if err != nil {
		return nil, fmt.Errorf("dial Key Protect instance %s on host %s: %w", kpInstanceID, a.host, err)
	}
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
