package emulator

import (
	"encoding/json"
	"fmt"
	"time"
)

// stateVersion is the format version of state.json.
const stateVersion = 1

// store is the whole emulator state. It is guarded by Server.mu.
type store struct {
	Version    int                   `json:"version"`
	Accounts   map[string]*account   `json:"accounts"`
	Instances  map[string]*instance  `json:"instances"`
	Identities map[string]*identity  `json:"identities"`
	Keys       map[string]*key       `json:"keys"`
	Policies   map[string]*iamPolicy `json:"policies"`
	// ClockOffset is how far the emulator's clock is ahead of
	// Config.Clock (see Advance).
	ClockOffset time.Duration `json:"clockOffset,omitempty"`

	apiKeys map[string]string // API key hash -> IAM ID
	aliases map[string]string // aliasIndex(instance, alias) -> key ID
}

func newStore() *store {
	return &store{
		Version:    stateVersion,
		Accounts:   map[string]*account{},
		Instances:  map[string]*instance{},
		Identities: map[string]*identity{},
		Keys:       map[string]*key{},
		Policies:   map[string]*iamPolicy{},
		apiKeys:    map[string]string{},
		aliases:    map[string]string{},
	}
}

func aliasIndex(instanceID, name string) string { return instanceID + "\x00" + name }

// decodeStore parses state.json and rebuilds the in-memory indexes. The
// caller still has to unseal key material (see Server.unsealAll).
func decodeStore(data []byte) (*store, error) {
	st := newStore()
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("parse state: %w", err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("parse state: unsupported version %d", st.Version)
	}
	st.fillNilMaps()
	if err := st.reindex(); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *store) fillNilMaps() {
	if st.Accounts == nil {
		st.Accounts = map[string]*account{}
	}
	if st.Instances == nil {
		st.Instances = map[string]*instance{}
	}
	if st.Identities == nil {
		st.Identities = map[string]*identity{}
	}
	if st.Keys == nil {
		st.Keys = map[string]*key{}
	}
	if st.Policies == nil {
		st.Policies = map[string]*iamPolicy{}
	}
}

// reindex rebuilds the API key and alias indexes and the parsed policies.
func (st *store) reindex() error {
	st.apiKeys = map[string]string{}
	for id, ident := range st.Identities {
		st.apiKeys[ident.APIKeyHash] = id
	}
	st.aliases = map[string]string{}
	for id, k := range st.Keys {
		if len(k.Versions) == 0 {
			return fmt.Errorf("parse state: key %s has no versions", id)
		}
		for _, a := range k.Aliases {
			st.aliases[aliasIndex(k.InstanceID, a.Name)] = id
		}
	}
	for id, p := range st.Policies {
		parsed, err := parsePolicyParts(p.Subjects, p.Resources)
		if err != nil {
			return fmt.Errorf("parse state: policy %s: %w", id, err)
		}
		p.parsed = parsed
	}
	return nil
}

// lookupKey resolves an ID or alias within an instance.
func (st *store) lookupKey(instanceID, idOrAlias string) *key {
	if k, ok := st.Keys[idOrAlias]; ok && k.InstanceID == instanceID {
		return k
	}
	if id, ok := st.aliases[aliasIndex(instanceID, idOrAlias)]; ok {
		return st.Keys[id]
	}
	return nil
}

// removeKey forgets a purged key and its aliases.
func (st *store) removeKey(k *key) {
	for _, a := range k.Aliases {
		delete(st.aliases, aliasIndex(k.InstanceID, a.Name))
	}
	delete(st.Keys, k.ID)
}
