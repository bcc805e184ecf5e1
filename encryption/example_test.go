package encryption_test

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/byokflow/byokflow/encryption"
)

// memoryWrapper stands in for a KMS: it "wraps" by remembering the key.
type memoryWrapper struct{ keys map[string][]byte }

func (m memoryWrapper) WrapKey(_ context.Context, rootKeyID string, dek *encryption.DataKey, _ []string) (encryption.WrappedKey, error) {
	err := dek.WithBytes(func(key []byte) error {
		m.keys["ct-1"] = bytes.Clone(key)
		return nil
	})
	return encryption.WrappedKey{RootKeyID: rootKeyID, KeyVersion: "v1", Ciphertext: []byte("ct-1")}, err
}

func (m memoryWrapper) UnwrapKey(_ context.Context, wk encryption.WrappedKey, _ []string) (*encryption.DataKey, *encryption.WrappedKey, error) {
	dek, err := encryption.NewDataKeyFromBytes(m.keys[string(wk.Ciphertext)])
	return dek, nil, err
}

// A backup: a fresh data key, wrapped under the customer's root key, named
// in the stream header; a restore reads the header, unwraps, and opens.
func Example_backupAndRestore() {
	ctx := context.Background()
	kms := memoryWrapper{keys: map[string][]byte{}}

	dek, _ := encryption.NewDataKey()
	wrapped, _ := kms.WrapKey(ctx, "root-key-1", dek, []string{"instance-1"})
	var backup bytes.Buffer
	w, _ := encryption.NewWriter(&backup, dek, encryption.HeaderInfo{Key: wrapped, Context: "backup:42"})
	_, _ = io.WriteString(w, "COPY users FROM STDIN;\n")
	_ = w.Close()
	dek.Destroy()

	h, err := encryption.ReadHeader(&backup)
	if err != nil {
		panic(err)
	}
	info := h.Info()
	restored, _, _ := kms.UnwrapKey(ctx, info.Key, []string{"instance-1"})
	r, err := h.Open(&backup, restored, "backup:42")
	if err != nil {
		panic(err)
	}
	plaintext, err := io.ReadAll(r)
	fmt.Printf("%s %q %v\n", info.Key.RootKeyID, plaintext, err)
	// Output: root-key-1 "COPY users FROM STDIN;\n" <nil>
}

// A node key slot: a small record sealed under a node-local key.
func ExampleSeal() {
	nodeKey, _ := encryption.NewDataKey()
	slot, _ := encryption.Seal(nodeKey, []byte(`{"root_key_id":"root-key-1"}`), "slot:instance-1/node-1")
	record, err := encryption.Open(nodeKey, slot, "slot:instance-1/node-1")
	fmt.Println(string(record), err)
	_, err = encryption.Open(nodeKey, slot, "slot:instance-1/node-2")
	fmt.Println(err)
	// Output:
	// {"root_key_id":"root-key-1"} <nil>
	// encryption: message authentication failed
}
