package emulator

import "sync/atomic"

// Operation names counted by Stats. They are a contract for tests of
// other packages ("one wrap per node", "tokens cached").
const (
	OpToken               = "token"
	OpIntrospect          = "introspect"
	OpAPIKeyDetails       = "apikey_details"
	OpCreateKey           = "create_key"
	OpGetKey              = "get_key"
	OpGetKeyMetadata      = "get_key_metadata"
	OpListKeys            = "list_keys"
	OpSetKeyRing          = "set_key_ring"
	OpDeleteKey           = "delete_key"
	OpRestoreKey          = "restore_key"
	OpPurgeKey            = "purge_key"
	OpListKeyVersions     = "list_key_versions"
	OpCreateImportToken   = "create_import_token"
	OpGetImportToken      = "get_import_token"
	OpWrap                = "wrap"
	OpUnwrap              = "unwrap"
	OpRewrap              = "rewrap"
	OpRotate              = "rotate"
	OpDisableKey          = "disable_key"
	OpEnableKey           = "enable_key"
	OpSetKeyForDeletion   = "set_key_for_deletion"
	OpUnsetKeyForDeletion = "unset_key_for_deletion"
	OpSyncKey             = "sync_key"
	OpGetKeyPolicies      = "get_key_policies"
	OpPutKeyPolicies      = "put_key_policies"
	OpGetInstancePolicies = "get_instance_policies"
	OpPutInstancePolicies = "put_instance_policies"
	OpListRegistrations   = "list_registrations"
	OpCreateRegistration  = "create_registration"
	OpUpdateRegistration  = "update_registration"
	OpReplaceRegistration = "replace_registration"
	OpDeleteRegistration  = "delete_registration"
	OpCreateAlias         = "create_alias"
	OpDeleteAlias         = "delete_alias"
	OpListKeyRings        = "list_key_rings"
	OpCreateKeyRing       = "create_key_ring"
	OpDeleteKeyRing       = "delete_key_ring"
	OpIAMCreatePolicy     = "iam_create_policy"
	OpIAMListPolicies     = "iam_list_policies"
	OpIAMGetPolicy        = "iam_get_policy"
	OpIAMDeletePolicy     = "iam_delete_policy"
	OpActivity            = "activity" // GET /admin/v1/activity
	OpClock               = "clock"    // GET and POST /admin/v1/clock (Config.DevClock)
	OpHealth              = "health"
	OpNotImplemented      = "not_implemented"
	OpNotFound            = "not_found"
)

var allOps = []string{
	OpToken, OpIntrospect, OpAPIKeyDetails, OpCreateKey, OpGetKey, OpGetKeyMetadata, OpListKeys,
	OpSetKeyRing, OpDeleteKey, OpRestoreKey, OpPurgeKey, OpListKeyVersions,
	OpCreateImportToken, OpGetImportToken, OpWrap,
	OpUnwrap, OpRewrap, OpRotate, OpDisableKey, OpEnableKey, OpSetKeyForDeletion,
	OpUnsetKeyForDeletion, OpSyncKey, OpGetKeyPolicies, OpPutKeyPolicies,
	OpGetInstancePolicies, OpPutInstancePolicies, OpListRegistrations,
	OpCreateRegistration, OpUpdateRegistration, OpReplaceRegistration,
	OpDeleteRegistration, OpCreateAlias, OpDeleteAlias, OpListKeyRings,
	OpCreateKeyRing, OpDeleteKeyRing, OpIAMCreatePolicy, OpIAMListPolicies,
	OpIAMGetPolicy, OpIAMDeletePolicy, OpActivity, OpClock, OpHealth, OpNotImplemented, OpNotFound,
}

// stats counts requests per operation; the map is fixed at creation so
// counting needs no lock.
type stats struct {
	counts map[string]*atomic.Int64
}

func newStats() *stats {
	s := &stats{counts: make(map[string]*atomic.Int64, len(allOps))}
	for _, op := range allOps {
		s.counts[op] = new(atomic.Int64)
	}
	return s
}

func (s *stats) inc(op string) {
	if c, ok := s.counts[op]; ok {
		c.Add(1)
	}
}

func (s *stats) snapshot() map[string]int64 {
	out := map[string]int64{}
	for op, c := range s.counts {
		if n := c.Load(); n != 0 {
			out[op] = n
		}
	}
	return out
}

func (s *stats) reset() {
	for _, c := range s.counts {
		c.Store(0)
	}
}

// Stats returns how many requests each operation received since start (or
// ResetStats), including those answered with an error or an injected
// fault. Operations never called are absent. Keys are the Op* constants.
func (s *Server) Stats() map[string]int64 { return s.stats.snapshot() }

// FaultedResponses returns how many requests of each operation were
// answered with an injected fault (429, 503 or the outage's 503; see
// Faults) since start (or ResetStats): Key Protect's, IAM's and the token
// endpoint's alike. Operations never faulted are absent.
func (s *Server) FaultedResponses() map[string]int64 { return s.faulted.snapshot() }

// ResetStats sets every counter, FaultedResponses and DroppedResponses
// back to zero.
func (s *Server) ResetStats() {
	s.stats.reset()
	s.faulted.reset()
	s.drops.reset()
}
