// Package encryption is byokflow's node-side encryption library: data
// encryption keys held in memory (DataKey), the KeyWrapper interface that
// wraps them under a customer's root key in a KMS, a chunked streaming AEAD
// for backups and other large data, and a one-shot Seal/Open for small
// records such as node key slots.
//
// It uses the standard library only and must import nothing of byokflow's:
// KMS adapters live in subpackages (encryption/keyprotect) and depend on this
// package, never the other way round.
//
// # Stream format, version 1
//
// All integers are big-endian. A stream is a header followed by a body.
//
//	header:
//	  magic        8 bytes   "BYOKFLOW"
//	  version      1 byte    1
//	  chunk size   4 bytes   65536 (any other value is rejected)
//	  root key id  u16 length + bytes (at most MaxRootKeyIDLen)
//	  key version  u16 length + bytes (at most MaxKeyVersionLen)
//	  wrapped DEK  u16 length + bytes (at most MaxWrappedKeyLen)
//	  context      u16 length + bytes (at most MaxContextLen)
//	  salt         32 bytes, random per stream
//	  nonce prefix 7 bytes, random per stream
//	  mac          32 bytes  HMAC-SHA256(header key, all header bytes above)
//
// Let T be the header bytes before the mac. A reader names the context it
// expects and rejects a header whose context differs. Keys are derived with
// HKDF-SHA256:
//
//	prk         = HKDF-Extract(salt, DEK)
//	header key  = HKDF-Expand(prk, "byokflow stream v1 header key", 32)
//	payload key = HKDF-Expand(prk, "byokflow stream v1 payload key" || 0x00 || T, 32)
//
// The body is the plaintext cut into 64 KiB chunks, each sealed with
// AES-256-GCM under the payload key with no additional data and the nonce
//
//	nonce prefix (7 bytes) || chunk counter (uint32) || last-chunk flag (1 byte: 0 or 1)
//
// This is age's STREAM construction. Every chunk but the last holds exactly
// 64 KiB of plaintext; the last holds 1 to 64 KiB, or 0 bytes when the whole
// plaintext is empty. A sealed chunk is its plaintext length plus 16 bytes.
// The last chunk must end the input: trailing bytes, truncation, reordered,
// dropped or duplicated chunks, a changed header, a wrong context and a
// wrong key all fail with ErrAuthentication. A header that cannot be parsed
// at all (bad magic, unknown version, other chunk size, oversized field,
// truncated header) fails with ErrFormat.
//
// # Record format (Seal and Open), version 1
//
//	magic   8 bytes  "BYOKSEAL"
//	version 1 byte   1
//	salt    32 bytes random per record
//	body    AES-256-GCM(key, nonce = 12 zero bytes, plaintext, additional data = magic || version || salt)
//
// with key = HKDF-SHA256(secret = DEK, salt, info = "byokflow seal v1" || 0x00 || context, 32).
// Each record has its own key (its own random salt), so a fixed nonce is safe.
package encryption
