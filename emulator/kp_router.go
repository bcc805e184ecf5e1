package emulator

import (
	"net/http"
	"net/url"
)

// kpRoute maps a Key Protect path (the segments after /api/v2) to its
// route. Everything unknown answers 501, which the client does not retry.
func kpRoute(method string, p []string, q url.Values) route {
	var rt route
	switch {
	case len(p) == 0:
	case p[0] == "keys":
		rt = keysRoute(method, p[1:], q)
	case p[0] == "keys_with_policy_overrides" && len(p) == 1 && method == http.MethodPost:
		rt = route{op: OpCreateKey, what: "Key could not be created", need: accWrite, kp: handleCreateKeyOverrides}
	case p[0] == "instance" && len(p) == 2 && p[1] == "policies":
		rt = instancePolicyRoute(method)
	case p[0] == "key_rings":
		rt = keyRingRoute(method, p[1:])
	case p[0] == "import_token" && len(p) == 1:
		rt = pick(method, map[string]route{
			http.MethodPost: {op: OpCreateImportToken, what: "Import Token could not be created", need: accWrite, kp: handleCreateImportToken},
			http.MethodGet:  {op: OpGetImportToken, what: "Import Token could not be retrieved", need: accWrite, kp: handleGetImportToken},
		})
	}
	if rt.kp == nil {
		return route{op: OpNotImplemented, kind: kindKP, what: "Request could not be served", kp: handleNotImplemented}
	}
	rt.kind = kindKP
	return rt
}

// keysRoute maps keys/...; every route there with a path parameter has
// the key as its first.
func keysRoute(method string, p []string, q url.Values) route {
	rt := keysPathRoute(method, p, q)
	rt.keyArg = len(rt.args) > 0
	return rt
}

func keysPathRoute(method string, p []string, q url.Values) route {
	switch len(p) {
	case 0:
		return pick(method, map[string]route{
			http.MethodGet:  {op: OpListKeys, what: "Keys could not be listed", need: accRead, kp: handleListKeys},
			http.MethodPost: {op: OpCreateKey, what: "Key could not be created", need: accWrite, kp: handleCreateKey},
		})
	case 1:
		if p[0] == "registrations" && method == http.MethodGet {
			return route{op: OpListRegistrations, what: "Registrations could not be listed", need: accRead, kp: handleListRegistrations}
		}
		return withArgs(keyRoute(method, q), p[0])
	case 2:
		return withArgs(keySubRoute(method, p[1]), p[0])
	case 3:
		if p[1] == "actions" && method == http.MethodPost {
			return withArgs(actionRoute(p[2]), p[0])
		}
		return withArgs(keyItemRoute(method, p[1]), p[0], p[2])
	}
	return route{}
}

func keyRoute(method string, q url.Values) route {
	if method == http.MethodPost && q.Get("action") != "" {
		return actionRoute(q.Get("action")) // the pre-2020 form keys/{id}?action=wrap
	}
	return pick(method, map[string]route{
		http.MethodGet:    {op: OpGetKey, what: "Key could not be retrieved", need: accRead, kp: handleGetKey},
		http.MethodDelete: {op: OpDeleteKey, what: "Key could not be deleted", need: accManage, kp: handleDeleteKey},
		http.MethodPatch:  {op: OpSetKeyRing, what: "Key could not be updated", need: accManage, kp: handleSetKeyRing},
	})
}

func keySubRoute(method, sub string) route {
	routes := map[string]map[string]route{
		"metadata": {http.MethodGet: {op: OpGetKeyMetadata, what: "Key could not be retrieved", need: accRead, kp: handleGetKeyMetadata}},
		"versions": {http.MethodGet: {op: OpListKeyVersions, what: "Key versions could not be listed", need: accRead, kp: handleListVersions}},
		"restore":  {http.MethodPost: {op: OpRestoreKey, what: "Key could not be restored", need: accManage, kp: handleRestoreKey}},
		"purge":    {http.MethodDelete: {op: OpPurgeKey, what: "Key could not be purged", need: accManage, kp: handlePurgeKey}},
		"policies": {
			http.MethodGet: {op: OpGetKeyPolicies, what: "Policies could not be retrieved", need: accRead, kp: handleGetKeyPolicies},
			http.MethodPut: {op: OpPutKeyPolicies, what: "Policy could not be created", need: accManage, kp: handlePutKeyPolicies},
		},
		"registrations": {http.MethodGet: {op: OpListRegistrations, what: "Registrations could not be listed", need: accRead, kp: handleListRegistrations}},
	}
	return pick(method, routes[sub])
}

func keyItemRoute(method, sub string) route {
	switch sub {
	case "registrations":
		return pick(method, map[string]route{
			http.MethodPost:   {op: OpCreateRegistration, what: "Registration could not be created", need: accRegister, kp: handleCreateRegistration},
			http.MethodPatch:  {op: OpUpdateRegistration, what: "Registration could not be updated", need: accRegister, kp: handleUpdateRegistration},
			http.MethodPut:    {op: OpReplaceRegistration, what: "Registration could not be replaced", need: accRegister, kp: handleReplaceRegistration},
			http.MethodDelete: {op: OpDeleteRegistration, what: "Registration could not be deleted", need: accRegister, kp: handleDeleteRegistration},
		})
	case "aliases":
		return pick(method, map[string]route{
			http.MethodPost:   {op: OpCreateAlias, what: "Key alias could not be created", need: accWrite, kp: handleCreateAlias},
			http.MethodDelete: {op: OpDeleteAlias, what: "Key alias could not be deleted", need: accManage, kp: handleDeleteAlias},
		})
	}
	return route{}
}

func actionRoute(action string) route {
	const what = "Action could not be performed on key"
	switch action {
	case "wrap":
		return route{op: OpWrap, what: "Wrap with key could not be performed", need: accCrypto, kp: handleWrap}
	case "unwrap":
		return route{op: OpUnwrap, what: "Unwrap with key could not be performed", need: accCrypto, kp: handleUnwrap}
	case "rewrap":
		return route{op: OpRewrap, what: "Rewrap with key could not be performed", need: accCrypto, kp: handleRewrap}
	case "rotate":
		return route{op: OpRotate, what: what, need: accWrite, kp: handleRotate}
	case "disable":
		return route{op: OpDisableKey, what: "Key could not be disabled", need: accManage, kp: handleDisable}
	case "enable":
		return route{op: OpEnableKey, what: "Key could not be enabled", need: accManage, kp: handleEnable}
	case "setKeyForDeletion", "setKeyDeletion":
		return route{op: OpSetKeyForDeletion, what: what, need: accManage, kp: handleSetForDeletion}
	case "unsetKeyForDeletion", "unsetKeyDeletion":
		return route{op: OpUnsetKeyForDeletion, what: what, need: accManage, kp: handleUnsetForDeletion}
	case "sync":
		return route{op: OpSyncKey, what: what, need: accManage, kp: handleSync}
	}
	return route{}
}

func instancePolicyRoute(method string) route {
	return pick(method, map[string]route{
		http.MethodGet: {op: OpGetInstancePolicies, what: "Instance policies could not be retrieved", need: accRead, kp: handleGetInstancePolicies},
		http.MethodPut: {op: OpPutInstancePolicies, what: "Instance policy could not be created", need: accManage, kp: handlePutInstancePolicies},
	})
}

func keyRingRoute(method string, p []string) route {
	switch {
	case len(p) == 0 && method == http.MethodGet:
		return route{op: OpListKeyRings, what: "Key rings could not be listed", need: accRead, kp: handleListKeyRings}
	case len(p) == 1:
		return withArgs(pick(method, map[string]route{
			http.MethodPost:   {op: OpCreateKeyRing, what: "Key ring could not be created", need: accManage, kp: handleCreateKeyRing},
			http.MethodDelete: {op: OpDeleteKeyRing, what: "Key ring could not be deleted", need: accManage, kp: handleDeleteKeyRing},
		}), p[0])
	}
	return route{}
}

func pick(method string, m map[string]route) route { return m[method] }

func withArgs(rt route, args ...string) route {
	if rt.kp != nil {
		rt.args = args
	}
	return rt
}

func handleNotImplemented(_ *Server, k *kpCtx) *apiError {
	return newErr(http.StatusNotImplemented, codeNotImplemented,
		"The emulator does not implement "+k.r.Method+" "+k.r.URL.Path)
}
