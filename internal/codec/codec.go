// Package codec is byokflow's Temporal payload codec: every payload a
// byokflow client or worker hands to Temporal (workflow and activity inputs
// and results, signals, queries, heartbeat details, memos, and failures
// through the failure converter's encoded attributes) is sealed with
// AES-256-GCM before it leaves the process, so the Temporal server, its
// database and the Web UI without the codec server see ciphertext only.
//
// The codec keys are data keys wrapped by a root key of the platform in Key
// Protect (envelope encryption, the pattern byokflow sells): the keyring
// file holds only wrapped keys, and a process unwraps them into memory at
// start. Each sealed payload names its key in the metadata
// (encryption-key-id), so after a rotation (a new key appended to the
// keyring) histories sealed under older keys still decode.
//
// The cipher is the encryption package's record format (Seal/Open):
// AES-256-GCM under a per-payload key derived with HKDF-SHA256 from the
// codec key and a random salt, with the key id bound as context. The SDK
// does the rest: converter.NewCodecDataConverter applies the codec and
// converter.NewPayloadCodecHTTPHandler serves it to the Web UI.
//
// It imports the encryption packages, ibmenv and the Temporal SDK.
package codec

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/byokflow/byokflow/encryption"
)

// Payload metadata of a sealed payload. MetadataKeyID names the codec key;
// the encoding is what a reader of a raw history sees.
const (
	MetadataEncoding  = converter.MetadataEncoding
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
	MetadataCipher    = "encryption-cipher"
	// CipherName names the construction: AES-256-GCM in the encryption
	// package's record format, version 1.
	CipherName = "AES-256-GCM/byokflow-seal-v1"
)

// sealContext binds a sealed payload to its key id: a payload relabelled
// with another key id fails to open even under the right key.
func sealContext(keyID string) string { return "byokflow temporal payload codec v1 " + keyID }

// Codec is a converter.PayloadCodec over a Keyring. It is safe for
// concurrent use.
type Codec struct {
	ring *Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec of ring.
func New(ring *Keyring) *Codec { return &Codec{ring: ring} }

// KeyIDs lists the codec keys held, oldest first.
func (c *Codec) KeyIDs() []string { return c.ring.IDs() }

// Encode seals every payload under the keyring's current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id, key := c.ring.Current()
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		sealed, err := encryption.Seal(key, plain, sealContext(id))
		clear(plain)
		if err != nil {
			return nil, fmt.Errorf("encode payload with codec key %s: %w", id, err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(id),
				MetadataCipher:   []byte(CipherName),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode opens every sealed payload with the key its metadata names and
// passes any other payload through unchanged (histories written before the
// codec was turned on stay readable). A key the keyring lacks makes it
// re-read the keyring file once, for a key added by a rotation elsewhere.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		dp, err := c.open(p)
		if err != nil {
			return nil, err
		}
		out[i] = dp
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	key, err := c.ring.Key(id)
	if err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	plain, err := encryption.Open(key, p.GetData(), sealContext(id))
	if err != nil {
		return nil, fmt.Errorf("decode payload sealed under codec key %s: %w: the payload was altered or sealed under another key", id, err)
	}
	defer clear(plain)
	var dp commonpb.Payload
	if err := proto.Unmarshal(plain, &dp); err != nil {
		return nil, fmt.Errorf("decode payload sealed under codec key %s: %w", id, err)
	}
	return &dp, nil
}
