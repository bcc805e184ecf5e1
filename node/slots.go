package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/byokflow/byokflow/encryption"
)

// SlotFormat is the version of the key-slot record that Save writes and
// Load accepts.
const SlotFormat = 1

const (
	slotsDir       = "slots"
	slotExt        = ".slot"
	slotSealPrefix = "byokflow node key slot v1\x00"
)

// idPattern is what an instance or node id must look like to name a file:
// lower-case letters, digits and dashes, so no id can leave the slots
// directory.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

var (
	// ErrSlotNotFound is wrapped by Load when the node has no key slot.
	ErrSlotNotFound = errors.New("no key slot")
	// ErrSlotCorrupt is wrapped by Load when a key slot exists but cannot be
	// read: changed on disk, moved from another node, sealed under another
	// agent key, or of an unknown format.
	ErrSlotCorrupt = errors.New("key slot corrupt")
)

// Slot is the on-disk key slot of one database node: its DEK wrapped under
// the root key (never the DEK itself) and what is needed to unwrap and
// identify it. None of it is secret; it is sealed for integrity and privacy.
type Slot struct {
	Format     int    `json:"format"`
	InstanceID string `json:"instance_id"`
	NodeID     string `json:"node_id"`
	RootKeyID  string `json:"root_key_id"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty (and
	// absent, in slots written before it existed) means the agent's
	// default instance.
	KPInstanceID string `json:"kp_instance_id,omitempty"`
	KeyVersionID string `json:"key_version_id"`
	// WrappedDEK is the KMS ciphertext, byte for byte as the KMS returned it.
	WrappedDEK []byte `json:"wrapped_dek"`
	// AAD is the additional authenticated data the DEK was wrapped with.
	AAD []string `json:"aad"`
	// CheckValue is the key check value of the DEK.
	CheckValue string    `json:"check_value"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Wrapped returns the slot's wrapped DEK for a KeyWrapper.
func (s Slot) Wrapped() encryption.WrappedKey {
	return encryption.WrappedKey{RootKeyID: s.RootKeyID, KeyVersion: s.KeyVersionID,
		Ciphertext: slices.Clone(s.WrappedDEK)}
}

// SlotRef names a slot found by List.
type SlotRef struct {
	InstanceID string
	NodeID     string
}

// Slots is the key-slot store of one data directory: one sealed file per
// node at <data-dir>/slots/<instance>/<node>.slot, sealed with
// encryption.Seal under the agent key (<data-dir>/agent.key) and bound to
// the instance and node, so a slot copied to another node's path does not
// load. Writes are atomic, removal overwrites before it unlinks. Slots does
// no locking: the Agent serializes work per node.
type Slots struct {
	dir string
	key *encryption.DataKey
}

// OpenSlots opens the key-slot store of dataDir, creating the directory
// (0700) and the agent key on first start.
func OpenSlots(dataDir string) (*Slots, error) {
	dir := filepath.Join(dataDir, slotsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open key slots in %s: %w: check the data directory", dataDir, err)
	}
	key, err := loadAgentKey(dataDir)
	if err != nil {
		return nil, err
	}
	return &Slots{dir: dir, key: key}, nil
}

// Close zeroizes the agent key; the store must not be used afterwards.
func (s *Slots) Close() { s.key.Destroy() }

// Load reads and opens the slot of a node. It wraps ErrSlotNotFound when
// there is none and ErrSlotCorrupt when it cannot be trusted.
func (s *Slots) Load(instanceID, nodeID string) (Slot, error) {
	path, err := s.path(instanceID, nodeID)
	if err != nil {
		return Slot{}, err
	}
	sealed, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Slot{}, fmt.Errorf("load key slot of node %s of instance %s: %w", nodeID, instanceID, ErrSlotNotFound)
	}
	if err != nil {
		return Slot{}, fmt.Errorf("load key slot of node %s of instance %s: %w", nodeID, instanceID, err)
	}
	slot, err := s.open(sealed, instanceID, nodeID)
	if err != nil {
		return Slot{}, fmt.Errorf("load key slot %s: %w: %w: restore the file from backup, or "+
			"drop the node's key slot and provision the instance again", path, ErrSlotCorrupt, err)
	}
	return slot, nil
}

// open authenticates a sealed slot and checks it belongs where it was found.
func (s *Slots) open(sealed []byte, instanceID, nodeID string) (Slot, error) {
	plain, err := encryption.Open(s.key, sealed, sealContext(instanceID, nodeID))
	if err != nil {
		return Slot{}, err
	}
	var slot Slot
	if err := json.Unmarshal(plain, &slot); err != nil {
		return Slot{}, fmt.Errorf("decode record: %w", err)
	}
	if slot.Format != SlotFormat {
		return Slot{}, fmt.Errorf("format %d, this agent reads %d", slot.Format, SlotFormat)
	}
	if slot.InstanceID != instanceID || slot.NodeID != nodeID {
		return Slot{}, fmt.Errorf("record names node %s of instance %s", slot.NodeID, slot.InstanceID)
	}
	return slot, nil
}

// Save writes slot atomically, replacing any earlier slot of the node: a
// crash leaves the old slot or the new one, never neither.
func (s *Slots) Save(slot Slot) error {
	slot.Format = SlotFormat
	path, err := s.path(slot.InstanceID, slot.NodeID)
	if err == nil {
		err = checkSlot(slot)
	}
	if err != nil {
		return err
	}
	plain, err := json.Marshal(slot)
	if err != nil {
		return fmt.Errorf("save key slot %s: %w", path, err)
	}
	sealed, err := encryption.Seal(s.key, plain, sealContext(slot.InstanceID, slot.NodeID))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o700)
	}
	if err == nil {
		err = writeFileAtomic(path, sealed)
	}
	if err != nil {
		return fmt.Errorf("save key slot %s: %w: check the data directory is writable", path, err)
	}
	return nil
}

// checkSlot refuses a slot that could not be unwrapped later.
func checkSlot(slot Slot) error {
	if slot.RootKeyID == "" || slot.KeyVersionID == "" || len(slot.WrappedDEK) == 0 || slot.CheckValue == "" {
		return fmt.Errorf("save key slot of node %s of instance %s: root key, key version, "+
			"wrapped DEK and check value are all required", slot.NodeID, slot.InstanceID)
	}
	return nil
}

// Remove overwrites the slot of a node with zeros and removes it, then the
// instance's directory if it is empty. No slot is success.
func (s *Slots) Remove(instanceID, nodeID string) error {
	path, err := s.path(instanceID, nodeID)
	if err != nil {
		return err
	}
	if err := shredFile(path); err != nil {
		return fmt.Errorf("remove key slot %s: %w: remove it by hand after overwriting it", path, err)
	}
	_ = os.Remove(filepath.Dir(path)) // fails, harmlessly, while other nodes' slots remain
	return nil
}

// List returns every slot in the store, by instance and node id. Leftover
// temporary files of an interrupted Save are skipped.
func (s *Slots) List() ([]SlotRef, error) {
	paths, err := filepath.Glob(filepath.Join(s.dir, "*", "*"+slotExt))
	if err != nil {
		return nil, fmt.Errorf("list key slots in %s: %w", s.dir, err)
	}
	var refs []SlotRef
	for _, p := range paths {
		ref := SlotRef{InstanceID: filepath.Base(filepath.Dir(p)),
			NodeID: strings.TrimSuffix(filepath.Base(p), slotExt)}
		if validID(ref.InstanceID) && validID(ref.NodeID) {
			refs = append(refs, ref)
		}
	}
	return refs, nil
}

// path is the slot file of a node, after checking both ids.
func (s *Slots) path(instanceID, nodeID string) (string, error) {
	if !validID(instanceID) || !validID(nodeID) {
		return "", fmt.Errorf("locate key slot of node %q of instance %q: ids must be 1-63 "+
			"lower-case letters, digits or dashes", nodeID, instanceID)
	}
	return filepath.Join(s.dir, instanceID, nodeID+slotExt), nil
}

func validID(id string) bool { return idPattern.MatchString(id) }

// sealContext binds a sealed slot to its instance and node.
func sealContext(instanceID, nodeID string) string {
	return slotSealPrefix + instanceID + "\x00" + nodeID
}
