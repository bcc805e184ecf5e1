package node

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/node/fscrypt"
)

// storageKeyInfo begins the HKDF info of a node's fscrypt master key; the
// instance and node ids follow, so that no two nodes share a storage key
// even if they shared a DEK.
const storageKeyInfo = "byokflow fscrypt v2 master key\x00"

// nodeDirs is where one node lives on the agent's storage root:
//
//	<storage>/<instance>/<node>/node.json   role, port, fscrypt key id (nothing secret)
//	<storage>/<instance>/<node>/data/       fscrypt v2 directory (names and contents encrypted)
//	<storage>/<instance>/<node>/data/pgdata PGDATA: cluster, WAL and server logs
//	<storage>/run/<hash>/                   the server's unix socket (kept short: 107 bytes)
type nodeDirs struct {
	root, data, pgdata, socket, meta string
}

func (a *Agent) dirsOf(n nodeRef) nodeDirs {
	root := filepath.Join(a.storage, n.InstanceID, n.NodeID)
	return nodeDirs{root: root, data: filepath.Join(root, "data"), pgdata: filepath.Join(root, "data", "pgdata"),
		socket: SocketDir(a.storage, n.InstanceID, n.NodeID), meta: filepath.Join(root, "node.json")}
}

// SocketDir is the directory of the unix socket of node nodeID of
// instance instanceID on storage root storage: run/ and a short hash of
// the two ids, since a socket's path may not exceed 107 bytes.
func SocketDir(storage, instanceID, nodeID string) string {
	sum := sha256.Sum256([]byte(instanceID + "/" + nodeID))
	return filepath.Join(storage, "run", hex.EncodeToString(sum[:6]))
}

// nodeMeta is what the agent remembers of a node's server between starts.
// It is public: a role, a port and a hash of the storage key.
type nodeMeta struct {
	Role         contract.NodeRole `json:"role,omitempty"`
	Port         int               `json:"port,omitempty"`
	StorageKeyID string            `json:"storage_key_id,omitempty"`
	// Suspended is why the node was suspended (SuspendNode); empty while
	// it may serve. A suspended node stays down across agent restarts
	// until ResumeNode.
	Suspended string `json:"suspended,omitempty"`
	// Replication is, on a primary, its replication password as the root
	// key wrapped it (ciphertext), so that a retried StartPrimary keeps
	// the password its standbys already use.
	Replication *contract.ReplicationSource `json:"replication,omitempty"`
}

// readMeta reads the node's meta; a node without one has a zero meta.
func readMeta(d nodeDirs) (nodeMeta, error) {
	var m nodeMeta
	b, err := os.ReadFile(d.meta)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return m, fmt.Errorf("read %s: %w", d.meta, err)
	}
	return m, nil
}

func writeMeta(d nodeDirs, m nodeMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.root, 0o755); err != nil {
		return err
	}
	return writeFileAtomic(d.meta, b)
}

// deriveStorageKey derives node n's 64-byte fscrypt master key from its
// DEK with HKDF-SHA512. The caller clears it after use.
func deriveStorageKey(dek *encryption.DataKey, n nodeRef) ([]byte, error) {
	var key []byte
	err := dek.WithBytes(func(k []byte) error {
		var err error
		key, err = hkdf.Key(sha512.New, k, nil, storageKeyInfo+n.InstanceID+"\x00"+n.NodeID, fscrypt.KeySize)
		return err
	})
	return key, err
}

// unlockStorage adds node n's fscrypt key to the kernel and makes sure its
// data directory is encrypted under exactly that key: a new node's
// directory is made and given the policy; an existing one must already
// have it. A directory without encryption is refused, never used.
func (a *Agent) unlockStorage(n nodeRef, dek *encryption.DataKey) error {
	key, err := deriveStorageKey(dek, n)
	if err != nil {
		return err
	}
	id, err := fscrypt.AddKey(a.storage, key)
	clear(key)
	if err != nil {
		return a.storageError("unlock storage", n, err)
	}
	d := a.dirsOf(n)
	if err := a.ensurePolicy(n, d, id); err != nil {
		// The key was added for a directory it does not protect: take it
		// away again, so a failure leaves no key in the kernel.
		if _, rmErr := fscrypt.RemoveKey(a.storage, id); rmErr != nil {
			a.log.Error("remove fscrypt key after a failed unlock", "instance", n.InstanceID, "node", n.NodeID,
				"storage_key_id", id.String(), "error", rmErr)
		}
		return err
	}
	m, err := readMeta(d)
	if err == nil && m.StorageKeyID != id.String() {
		m.StorageKeyID = id.String()
		err = writeMeta(d, m)
	}
	return err
}

// ensurePolicy makes d.data with the policy of id, or checks it has it.
func (a *Agent) ensurePolicy(n nodeRef, d nodeDirs, id fscrypt.Identifier) error {
	if _, err := os.Stat(d.data); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(d.root, 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(d.data, 0o711); err != nil {
			return err
		}
		return a.storageError("encrypt data directory", n, fscrypt.SetPolicy(d.data, id))
	}
	p, err := fscrypt.GetPolicy(d.data)
	switch {
	case errors.Is(err, fscrypt.ErrNotEncrypted):
		return contract.NewError(contract.ErrTypeStorageUnsupported, fmt.Sprintf("unlock storage of node %s "+
			"of instance %s: its data directory %s is not encrypted: byokflow never serves a node from "+
			"plaintext storage; drop the node (its directory was not made by byokflow) and provision again",
			n.NodeID, n.InstanceID, d.data), err)
	case err != nil:
		return a.storageError("read encryption policy", n, err)
	case p.Key != id:
		return contract.NewError(contract.ErrTypeKeySlotInvalid, fmt.Sprintf("unlock storage of node %s of "+
			"instance %s: its data directory is encrypted under fscrypt key %s, not %s derived from the key "+
			"slot's DEK: the slot or the directory belongs to another node; drop the node and provision again",
			n.NodeID, n.InstanceID, p.Key, id), nil)
	}
	return nil
}

// lockStorage removes node n's fscrypt key from the kernel: from then on
// its files are ciphertext, their names too. The server must be stopped
// first; a removal that finds files still open is an error.
func (a *Agent) lockStorage(n nodeRef) (fscrypt.Removal, error) {
	m, err := readMeta(a.dirsOf(n))
	if err != nil || m.StorageKeyID == "" {
		return fscrypt.Removal{}, err
	}
	id, err := fscrypt.ParseIdentifier(m.StorageKeyID)
	if err != nil {
		return fscrypt.Removal{}, fmt.Errorf("read storage key id of node %s: %w", n.NodeID, err)
	}
	r, err := fscrypt.RemoveKey(a.storage, id)
	if err != nil {
		return r, a.storageError("lock storage", n, err)
	}
	if !r.Complete() {
		return r, fmt.Errorf("lock storage of node %s of instance %s: fscrypt key %s: %s: a process "+
			"still holds files of the node open; will retry", n.NodeID, n.InstanceID, id, r)
	}
	return r, nil
}

// storageKeyState is the kernel's view of node n's fscrypt key, for reports.
func (a *Agent) storageKeyState(m nodeMeta) string {
	id, err := fscrypt.ParseIdentifier(m.StorageKeyID)
	if err != nil {
		return ""
	}
	s, err := fscrypt.KeyStatus(a.storage, id)
	if err != nil {
		return "unknown: " + err.Error()
	}
	return s.String()
}

// removeNodeFiles deletes node n's directories, ciphertext included, and
// says what it deleted.
func (a *Agent) removeNodeFiles(n nodeRef) (string, error) {
	d := a.dirsOf(n)
	var gone []string
	for _, p := range []string{d.root, d.socket} {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return "", fmt.Errorf("delete files of node %s of instance %s: %w", n.NodeID, n.InstanceID, err)
		}
		gone = append(gone, p)
	}
	_ = os.Remove(filepath.Dir(d.root)) // the instance's directory, once empty
	if len(gone) == 0 {
		return "no node files on host " + a.host, nil
	}
	return fmt.Sprintf("deleted %s (ciphertext) on host %s", d.root, a.host), nil
}

// storageError classifies an fscrypt failure: storage that cannot be
// encrypted is permanent, anything else is retried.
func (a *Agent) storageError(op string, n nodeRef, err error) error {
	if err == nil {
		return nil
	}
	var unsupported *fscrypt.UnsupportedError
	if errors.As(err, &unsupported) {
		return contract.NewError(contract.ErrTypeStorageUnsupported, fmt.Sprintf("%s of node %s of instance %s "+
			"on host %s: %v", op, n.NodeID, n.InstanceID, a.host, err), nil)
	}
	return fmt.Errorf("%s of node %s of instance %s on host %s: %w", op, n.NodeID, n.InstanceID, a.host, err)
}
