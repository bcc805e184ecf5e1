package activities

import (
	"fmt"
	"sync"

	"github.com/byokflow/byokflow/contract"
)

// kpClients hands out the Key Protect clients of each Key Protect
// instance: the default instance's from Clients, the others built once by
// the factories and cached, so that every client keeps its IAM token.
type kpClients struct {
	def          string
	mu           sync.Mutex
	keys         map[string]KeyAdmin
	registrars   map[string]Registrar
	keysFor      func(kpInstanceID string) (KeyAdmin, error)
	registrarFor func(kpInstanceID string) (Registrar, error)
}

func newKPClients(def string, c Clients) *kpClients {
	k := &kpClients{def: def, keys: map[string]KeyAdmin{}, registrars: map[string]Registrar{},
		keysFor: c.KeysFor, registrarFor: c.RegistrarFor}
	if c.Keys != nil {
		k.keys[def] = c.Keys
	}
	if c.Registrar != nil {
		k.registrars[def] = c.Registrar
	}
	return k
}

// serves reports whether clients of Key Protect instance id can be had.
func (k *kpClients) serves(id string) bool {
	return id == "" || id == k.def || (k.keysFor != nil && k.registrarFor != nil)
}

// cached returns the client of id from m, building it with build once.
func cached[T any](k *kpClients, m map[string]T, id string, build func(string) (T, error)) (T, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := m[id]; ok {
		return c, nil
	}
	var zero T
	if build == nil {
		return zero, fmt.Errorf("no Key Protect client for instance %s", id)
	}
	c, err := build(id)
	if err != nil {
		return zero, fmt.Errorf("dial Key Protect instance %s: %w", id, err)
	}
	m[id] = c
	return c, nil
}

// kpInstance resolves an input's Key Protect instance (empty: the
// configured one) and fails InvalidInput for an instance this worker has
// no clients for.
func (a *Activities) kpInstance(id, verb string) (string, error) {
	if id == "" {
		id = a.cfg.KPInstanceID
	}
	if a.kp.serves(id) {
		return id, nil
	}
	msg := fmt.Sprintf("%s: Key Protect instance %s is not the instance this worker serves (%s, from BYOK_KP_INSTANCE_ID): "+
		"choose a root key of instance %s, or run a worker with BYOK_KP_INSTANCE_ID=%s",
		verb, id, a.cfg.KPInstanceID, a.cfg.KPInstanceID, id)
	return "", contract.NewError(contract.ErrTypeInvalidInput, msg, nil)
}

// keysFor is the operator's Key Protect client of instance id (empty: the
// default instance); verb names the call in errors.
func (a *Activities) keysFor(id, verb string) (KeyAdmin, error) {
	id, err := a.kpInstance(id, verb)
	if err != nil {
		return nil, err
	}
	return cached(a.kp, a.kp.keys, id, a.kp.keysFor)
}

// registrarFor is the service's registrar of instance id (empty: the
// default instance).
func (a *Activities) registrarFor(id, verb string) (Registrar, error) {
	id, err := a.kpInstance(id, verb)
	if err != nil {
		return nil, err
	}
	return cached(a.kp, a.kp.registrars, id, a.kp.registrarFor)
}
