package emulator

import (
	"net/http"
	"regexp"
	"sort"
)

// maxAliases is the number of aliases a key may have.
const maxAliases = 5

var (
	aliasPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{2,90}$`)
	uuidPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	keyRingPattern = regexp.MustCompile(`^[A-Za-z0-9-]{2,100}$`)
	reservedAlias  = map[string]bool{"allowed_ip": true, "key": true, "keys": true, "metadata": true, "policy": true,
		"policies": true, "registration": true, "registrations": true, "ring": true, "rings": true, "rotate": true,
		"wrap": true, "unwrap": true, "rewrap": true, "version": true, "versions": true}
)

func validAlias(a string) bool {
	return aliasPattern.MatchString(a) && !uuidPattern.MatchString(a) && !reservedAlias[a]
}

// addAliases validates and appends aliases; the caller indexes them.
func (s *Server) addAliases(kk *key, names []string, by string) *apiError {
	if len(kk.Aliases)+len(names) > maxAliases {
		return newErr(http.StatusBadRequest, codeAliasQuota, "A key can have at most 5 aliases")
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !validAlias(n) {
			return fieldErr("aliases", "2 to 90 characters of A-Z, a-z, 0-9, _ and -, not a UUID and not a reserved word")
		}
		if id, taken := s.st.aliases[aliasIndex(kk.InstanceID, n)]; (taken && id != kk.ID) || seen[n] {
			return conflict(codeAliasNotUnique, "The alias "+n+" is already used in this instance")
		}
		seen[n] = true
	}
	now := s.now()
	for _, n := range names {
		kk.Aliases = append(kk.Aliases, &alias{Name: n, CreatedBy: by, Created: now})
	}
	return nil
}

func handleCreateAlias(s *Server, k *kpCtx) *apiError {
	var out aliasJSON
	e := s.update(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		if e := allowed(opModify, s.stateOf(kk)); e != nil {
			return e
		}
		name := k.args[1]
		for _, a := range kk.Aliases {
			if a.Name == name { // already this key's: answer as if created
				out = aliasJSON{KeyID: kk.ID, Alias: a.Name, CreatedBy: a.CreatedBy, CreationDate: stamp(a.Created)}
				return nil
			}
		}
		if e := s.addAliases(kk, []string{name}, k.c.IAMID); e != nil {
			return e
		}
		a := kk.Aliases[len(kk.Aliases)-1]
		s.st.aliases[aliasIndex(kk.InstanceID, name)] = kk.ID
		out = aliasJSON{KeyID: kk.ID, Alias: a.Name, CreatedBy: a.CreatedBy, CreationDate: stamp(a.Created)}
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusCreated, aliasType, []aliasJSON{out})
	return nil
}

func handleDeleteAlias(s *Server, k *kpCtx) *apiError {
	e := s.update(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		name := k.args[1]
		for i, a := range kk.Aliases {
			if a.Name == name {
				kk.Aliases = append(kk.Aliases[:i], kk.Aliases[i+1:]...)
				delete(s.st.aliases, aliasIndex(kk.InstanceID, name))
				return nil
			}
		}
		return newErr(http.StatusNotFound, codeAliasNotFound, "The key has no alias "+name)
	})
	if e != nil {
		return e
	}
	writeNoContent(k.w)
	return nil
}

func ringExists(inst *instance, id string) bool {
	if id == "default" {
		return true
	}
	_, ok := inst.KeyRings[id]
	return ok
}

func handleListKeyRings(s *Server, k *kpCtx) *apiError {
	out := []keyRingJSON{{ID: "default"}}
	e := s.view(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		for _, r := range s.st.Instances[k.inst].KeyRings {
			out = append(out, keyRingJSON{ID: r.ID, CreationDate: stampPtr(&r.Created), CreatedBy: r.CreatedBy})
		}
		return nil
	})
	if e != nil {
		return e
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].ID < out[1+j].ID })
	writeCollection(k.w, http.StatusOK, keyRingType, out)
	return nil
}

func handleCreateKeyRing(s *Server, k *kpCtx) *apiError {
	id := k.args[0]
	e := s.update(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		if !keyRingPattern.MatchString(id) {
			return fieldErr("key_ring_id", "2 to 100 characters of A-Z, a-z, 0-9 and -")
		}
		inst := s.st.Instances[k.inst]
		if ringExists(inst, id) {
			return conflict(codeKeyRingConflict, "Key ring "+id+" already exists")
		}
		if inst.KeyRings == nil {
			inst.KeyRings = map[string]*keyRing{}
		}
		inst.KeyRings[id] = &keyRing{ID: id, CreatedBy: k.c.IAMID, Created: s.now()}
		return nil
	})
	if e != nil {
		return e
	}
	k.w.WriteHeader(http.StatusCreated) // empty body: the client cannot decode one (spec §1.3)
	return nil
}

func handleDeleteKeyRing(s *Server, k *kpCtx) *apiError {
	id := k.args[0]
	force, e := boolQuery(k.r.URL.Query(), "force")
	if e != nil {
		return e
	}
	e = s.update(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		inst := s.st.Instances[k.inst]
		if id == "default" || !ringExists(inst, id) {
			return newErr(http.StatusNotFound, codeKeyRingNotFound, "Key ring '"+id+"' does not exist or cannot be deleted")
		}
		return s.emptyRing(inst, id, force != nil && *force)
	})
	if e != nil {
		return e
	}
	writeNoContent(k.w)
	return nil
}

// emptyRing deletes a ring holding no live keys; with force its deleted
// keys move to the default ring.
func (s *Server) emptyRing(inst *instance, id string, force bool) *apiError {
	var deleted []*key
	for _, kk := range s.st.Keys {
		if kk.InstanceID != inst.ID || kk.KeyRingID != id {
			continue
		}
		if s.stateOf(kk) != stateDestroyed || !force {
			return conflict(codeKeyRingNotEmpty, "Key ring "+id+" still holds keys: move or delete them first (deleted keys need force=true)")
		}
		deleted = append(deleted, kk)
	}
	for _, kk := range deleted {
		kk.KeyRingID = "default"
	}
	delete(inst.KeyRings, id)
	return nil
}
