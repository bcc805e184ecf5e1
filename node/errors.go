package node

import (
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

// failure is a classified KeyWrapper error: the key state the node reports,
// whether its DEK must leave memory, and the error the activity returns.
type failure struct {
	state contract.KeyState
	flush bool
	err   error
}

// classify maps a KeyWrapper error once, at the activity boundary. op says
// what failed ("install key"); the message names the node, instance and
// root key and says what to do. A destroyed or disabled root key flushes
// the DEK, as the customer has revoked it; an unreachable Key Protect keeps
// it for now and is retried.
func classify(op string, n nodeRef, rootKeyID string, err error) failure {
	what := fmt.Sprintf("%s of node %s of instance %s", op, n.NodeID, n.InstanceID)
	if errors.Is(err, encryption.ErrKMSUnavailable) {
		return failure{state: contract.KeyUnreachable,
			err: fmt.Errorf("%s: Key Protect unreachable, will retry: %w", what, err)}
	}
	c, ok := permanentClass(rootKeyID, err)
	if !ok {
		return failure{state: contract.KeyError, err: fmt.Errorf("%s: %w", what, err)}
	}
	return failure{state: c.state, flush: c.flush, err: contract.NewError(c.errType, what+": "+c.msg, err)}
}

// class is how one permanent KeyWrapper failure is reported.
type class struct {
	state   contract.KeyState
	errType string
	flush   bool
	msg     string
}

// permanentClass classifies the permanent KeyWrapper failures.
func permanentClass(rootKeyID string, err error) (class, bool) {
	switch {
	case errors.Is(err, encryption.ErrRootKeyDestroyed):
		return class{contract.KeyDestroyed, contract.ErrTypeKeyDestroyed, true, fmt.Sprintf(
			"root key %s is destroyed, data under it is unrecoverable: restore the key in "+
				"Key Protect if it was deleted less than 30 days ago", rootKeyID)}, true
	case errors.Is(err, encryption.ErrRootKeySuspended):
		return class{contract.KeySuspended, contract.ErrTypeKeySuspended, true, fmt.Sprintf(
			"root key %s is disabled in Key Protect: enable it, then retry", rootKeyID)}, true
	case errors.Is(err, encryption.ErrNotAuthorized):
		return class{contract.KeyError, contract.ErrTypeServiceNotAuthorized, false, fmt.Sprintf(
			"the service identity may not use root key %s: create the IAM authorization policy "+
				"(source: the DBaaS service, target: the Key Protect instance, role Reader), for "+
				"example with provision --create-authorization, and check BYOK_SERVICE_API_KEY", rootKeyID)}, true
	case errors.Is(err, encryption.ErrRootKeyNotFound):
		return class{contract.KeyError, contract.ErrTypeKeyNotFound, false, fmt.Sprintf(
			"root key %s not found: check the key id and that BYOK_KP_INSTANCE_ID names its "+
				"Key Protect instance", rootKeyID)}, true
	case errors.Is(err, encryption.ErrInvalidCiphertext):
		return class{contract.KeyError, contract.ErrTypeKeySlotInvalid, false, fmt.Sprintf(
			"Key Protect refused the key slot's wrapped DEK for root key %s and the node's AAD: "+
				"the slot was changed or belongs to another key; drop the node's key slot and "+
				"provision the instance again", rootKeyID)}, true
	case errors.Is(err, errCheckValueMismatch):
		return class{contract.KeyError, contract.ErrTypeKeySlotInvalid, false, fmt.Sprintf(
			"the DEK unwrapped under root key %s does not match the key slot's check value: "+
				"the slot was changed; drop the node's key slot and provision the instance again", rootKeyID)}, true
	}
	return class{}, false
}

// slotError classifies a failure to read a node's key slot: a corrupt slot
// is permanent, anything else (I/O) is retried.
func slotError(op string, n nodeRef, err error) error {
	msg := fmt.Sprintf("%s of node %s of instance %s: %v", op, n.NodeID, n.InstanceID, err)
	if errors.Is(err, ErrSlotCorrupt) {
		return contract.NewError(contract.ErrTypeKeySlotInvalid, msg, err)
	}
	return fmt.Errorf("%s of node %s of instance %s: %w", op, n.NodeID, n.InstanceID, err)
}

// invalidInput classifies a malformed activity input as permanent.
func invalidInput(op string, err error) error {
	return contract.NewError(contract.ErrTypeInvalidInput, op+": "+err.Error(), nil)
}

// checkIDs checks the instance and node ids of an input (they name files).
func checkIDs(instanceID, nodeID string) error {
	if validID(instanceID) && validID(nodeID) {
		return nil
	}
	return fmt.Errorf("node %q of instance %q: ids must be 1-63 lower-case letters, digits "+
		"or dashes: fix the instance's nodes in the catalog", nodeID, instanceID)
}

// checkKeyInput checks the inputs of InstallKey and RewrapKey.
func checkKeyInput(instanceID, nodeID, rootKeyID string, aad []string) error {
	if err := checkIDs(instanceID, nodeID); err != nil {
		return err
	}
	if rootKeyID == "" || len(aad) == 0 {
		return fmt.Errorf("node %s of instance %s: a root key id and the AAD "+
			"(contract.NodeAAD) are required", nodeID, instanceID)
	}
	return nil
}
