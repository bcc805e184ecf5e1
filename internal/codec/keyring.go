package codec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/byokflow/byokflow/encryption"
)

// wrapAAD binds a wrapped codec key to its id: Key Protect refuses to
// unwrap it under another id.
func wrapAAD(id string) []string { return []string{"byokflow temporal payload codec key", id} }

// Entry is one codec key in the keyring file: wrapped, never in clear.
type Entry struct {
	ID         string    `json:"id"`
	RootKeyID  string    `json:"rootKeyId"`
	KeyVersion string    `json:"keyVersion"`
	WrappedKey []byte    `json:"wrappedKey"`
	CheckValue string    `json:"checkValue"`
	CreatedAt  time.Time `json:"createdAt"`
}

// File is the keyring file: its last entry is the current key, the one new
// payloads are sealed under; older entries only decode.
type File struct {
	Keys []Entry `json:"keys"`
}

// Keyring holds the unwrapped codec keys of a keyring file in memory.
type Keyring struct {
	path    string
	wrapper encryption.KeyWrapper
	// refresh is how often Current looks for a newer key in the file;
	// reloadGap the least time between two reloads for an unknown key id.
	refresh, reloadGap time.Duration

	mu        sync.RWMutex
	keys      map[string]*encryption.DataKey
	order     []string
	current   string
	stamp     fileStamp
	checked   time.Time
	lastMiss  time.Time
	reloadErr error
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// Open reads the keyring file at path and unwraps every key with wrapper.
func Open(ctx context.Context, path string, wrapper encryption.KeyWrapper) (*Keyring, error) {
	r := &Keyring{path: path, wrapper: wrapper, refresh: time.Minute, reloadGap: time.Second,
		keys: map[string]*encryption.DataKey{}}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Current returns the key new payloads are sealed under. At most once per
// refresh interval it checks the file and picks up a key a rotation added.
func (r *Keyring) Current() (string, *encryption.DataKey) {
	r.mu.RLock()
	stale := time.Since(r.checked) > r.refresh
	r.mu.RUnlock()
	if stale {
		r.mu.Lock()
		r.checked = time.Now()
		r.mu.Unlock()
		if st, err := stat(r.path); err == nil && st != r.stamp {
			_ = r.reload() // on failure keep sealing under the key we have
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current, r.keys[r.current]
}

// Key returns the key named id, re-reading the file (at most once per
// reload gap) when id is unknown.
func (r *Keyring) Key(id string) (*encryption.DataKey, error) {
	r.mu.RLock()
	k := r.keys[id]
	r.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	r.mu.Lock()
	due := time.Since(r.lastMiss) >= r.reloadGap
	if due {
		r.lastMiss = time.Now()
	}
	r.mu.Unlock()
	if due {
		err := r.reload()
		r.mu.Lock()
		r.reloadErr = err
		r.mu.Unlock()
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if k := r.keys[id]; k != nil {
		return k, nil
	}
	if r.reloadErr != nil {
		return nil, fmt.Errorf("codec key %q is not in keyring %s, and re-reading it failed: %w", id, r.path, r.reloadErr)
	}
	return nil, fmt.Errorf("codec key %q is not in keyring %s: give this process the keyring file the writer used", id, r.path)
}

// IDs lists the key ids held, oldest first.
func (r *Keyring) IDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

func (r *Keyring) reload() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.load(ctx)
}

// load unwraps the entries it does not hold yet and moves the current key
// to the file's last entry.
func (r *Keyring) load(ctx context.Context) error {
	st, err := stat(r.path)
	if err != nil {
		return fmt.Errorf("read codec keyring %s: %w: create it with 'worker codec-key rotate'", r.path, err)
	}
	f, err := readFile(r.path)
	if err != nil {
		return err
	}
	if len(f.Keys) == 0 {
		return fmt.Errorf("codec keyring %s holds no key: add one with 'worker codec-key rotate'", r.path)
	}
	fresh := map[string]*encryption.DataKey{}
	for _, e := range f.Keys {
		if r.has(e.ID) {
			continue
		}
		k, err := unwrapEntry(ctx, r.wrapper, e)
		if err != nil {
			return err
		}
		fresh[e.ID] = k
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range f.Keys {
		if k := fresh[e.ID]; k != nil {
			r.keys[e.ID] = k
			r.order = append(r.order, e.ID)
		}
	}
	r.current, r.stamp, r.checked = f.Keys[len(f.Keys)-1].ID, st, time.Now()
	return nil
}

func (r *Keyring) has(id string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[id] != nil
}

// unwrapEntry unwraps e and checks it is the key the file describes.
func unwrapEntry(ctx context.Context, w encryption.KeyWrapper, e Entry) (*encryption.DataKey, error) {
	wk := encryption.WrappedKey{RootKeyID: e.RootKeyID, KeyVersion: e.KeyVersion, Ciphertext: e.WrappedKey}
	k, _, err := w.UnwrapKey(ctx, wk, wrapAAD(e.ID))
	if err != nil {
		return nil, fmt.Errorf("unwrap codec key %s with platform root key %s: %w", e.ID, e.RootKeyID, err)
	}
	if kcv, err := k.CheckValue(); err != nil || kcv != e.CheckValue {
		k.Destroy()
		return nil, fmt.Errorf("unwrap codec key %s: its check value differs from the keyring's: restore the keyring file from its writer", e.ID)
	}
	return k, nil
}

// Rotate adds a fresh codec key wrapped by rootKeyID to the keyring file
// at path (created when missing) and returns its entry. Processes pick it
// up within their refresh interval; older keys stay for old histories.
func Rotate(ctx context.Context, path string, w encryption.KeyWrapper, rootKeyID string) (Entry, error) {
	f, err := readFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Entry{}, err
	}
	k, err := encryption.NewDataKey()
	if err != nil {
		return Entry{}, err
	}
	defer k.Destroy()
	e := Entry{ID: newKeyID(), RootKeyID: rootKeyID, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	wk, err := w.WrapKey(ctx, rootKeyID, k, wrapAAD(e.ID))
	if err != nil {
		return Entry{}, fmt.Errorf("wrap new codec key under platform root key %s: %w", rootKeyID, err)
	}
	e.KeyVersion, e.WrappedKey = wk.KeyVersion, wk.Ciphertext
	if e.CheckValue, err = k.CheckValue(); err != nil {
		return Entry{}, err
	}
	f.Keys = append(f.Keys, e)
	return e, writeFile(path, f)
}

func newKeyID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "ck-" + hex.EncodeToString(b)
}

func stat(path string) (fileStamp, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{info.ModTime(), info.Size()}, nil
}

func readFile(path string) (File, error) {
	var f File
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("read codec keyring %s: %w", path, err)
	}
	return f, nil
}

// writeFile replaces the file atomically, so a reader sees the old or the
// new keyring, never half of one.
func writeFile(path string, f File) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write codec keyring %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write codec keyring %s: %w", path, err)
	}
	return nil
}

// NewestRootKey returns the root key of the keyring file's newest entry.
func NewestRootKey(path string) (string, bool) {
	f, err := readFile(path)
	if err != nil || len(f.Keys) == 0 {
		return "", false
	}
	return f.Keys[len(f.Keys)-1].RootKeyID, true
}
