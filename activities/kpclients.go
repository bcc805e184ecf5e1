package activities

import (
	"fmt"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/clientcache"
)

// kpClients hands out the Key Protect clients of each Key Protect
// instance: the default instance's from Clients, the others built once by
// the factories and cached, so that every client keeps its IAM token.
type kpClients struct {
	def        string
	multi      bool // the factories can build clients for any instance
	keys       *clientcache.Cache[KeyAdmin]
	registrars *clientcache.Cache[Registrar]
	records    *clientcache.Cache[KeyRecords]
}

func newKPClients(def string, c Clients) *kpClients {
	k := &kpClients{def: def, multi: c.KeysFor != nil && c.RegistrarFor != nil,
		keys: clientcache.New(c.KeysFor), registrars: clientcache.New(c.RegistrarFor),
		records: clientcache.New(c.RecordsFor)}
	if c.Records != nil {
		k.records.Put(def, c.Records)
	}
	if c.Keys != nil {
		k.keys.Put(def, c.Keys)
	}
	if c.Registrar != nil {
		k.registrars.Put(def, c.Registrar)
	}
	return k
}

// serves reports whether clients of Key Protect instance id can be had.
func (k *kpClients) serves(id string) bool {
	return id == "" || id == k.def || k.multi
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
// default instance), its state-changing calls audited; verb names the
// call in errors.
func (a *Activities) keysFor(id, verb string) (KeyAdmin, error) {
	id, err := a.kpInstance(id, verb)
	if err != nil {
		return nil, err
	}
	keys, err := a.kp.keys.Get(id)
	if err != nil {
		return nil, fmt.Errorf("dial Key Protect instance %s: %w", id, err)
	}
	return auditedKeys{KeyAdmin: keys, a: a, kpInstance: id}, nil
}

// registrarFor is the service's registrar of instance id (empty: the
// default instance), audited.
func (a *Activities) registrarFor(id, verb string) (Registrar, error) {
	id, err := a.kpInstance(id, verb)
	if err != nil {
		return nil, err
	}
	registrar, err := a.kp.registrars.Get(id)
	if err != nil {
		return nil, fmt.Errorf("dial Key Protect instance %s: %w", id, err)
	}
	return auditedRegistrar{Registrar: registrar, a: a, kpInstance: id}, nil
}

// recordsFor reads Key Protect's records of instance id (empty: the
// default instance) with the operator identity.
func (a *Activities) recordsFor(id, verb string) (KeyRecords, error) {
	id, err := a.kpInstance(id, verb)
	if err != nil {
		return nil, err
	}
	records, err := a.kp.records.Get(id)
	if err != nil {
		return nil, fmt.Errorf("dial Key Protect instance %s: %w", id, err)
	}
	return records, nil
}
