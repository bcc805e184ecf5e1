package encryption

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ChunkSize is the plaintext size of every stream chunk but the last.
const ChunkSize = 64 << 10

// Limits on the variable-length header fields, so that a header can never
// make a reader allocate much.
const (
	MaxRootKeyIDLen  = 256
	MaxKeyVersionLen = 256
	MaxWrappedKeyLen = 4096
	MaxContextLen    = 1024
)

const (
	streamMagic     = "BYOKFLOW"
	formatVersion   = 1
	fixedHeaderLen  = len(streamMagic) + 1 + 4
	saltSize        = 32
	noncePrefixSize = 7
	macSize         = 32
	tagSize         = 16
	encChunkSize    = ChunkSize + tagSize
)

// HeaderInfo is what a stream header says in the clear (authenticated, not
// encrypted): the wrapped data key that a reader must unwrap first, and the
// context the stream is bound to.
type HeaderInfo struct {
	// Key is the stream's data key wrapped by the KMS.
	Key WrappedKey
	// Context binds the stream to where it belongs, such as an instance or
	// backup id. A reader must name the same context to open the stream.
	Context string
}

// Header is a parsed stream header. ReadHeader returns it before any key is
// known, so that the caller can unwrap Info().Key and then call Open.
type Header struct {
	info   HeaderInfo
	salt   [saltSize]byte
	prefix [noncePrefixSize]byte
	mac    [macSize]byte
}

// Info returns the header's fields. They are not authenticated until Open
// succeeds.
func (h *Header) Info() HeaderInfo {
	info := h.info
	info.Key.Ciphertext = bytes.Clone(h.info.Key.Ciphertext)
	return info
}

// validate checks every field against its limit.
func (info HeaderInfo) validate() error {
	fields := []struct {
		name string
		n    int
		max  int
	}{
		{"root key id", len(info.Key.RootKeyID), MaxRootKeyIDLen},
		{"key version", len(info.Key.KeyVersion), MaxKeyVersionLen},
		{"wrapped key", len(info.Key.Ciphertext), MaxWrappedKeyLen},
		{"context", len(info.Context), MaxContextLen},
	}
	for _, f := range fields {
		if f.n > f.max {
			return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrFormat, f.name, f.n, f.max)
		}
	}
	return nil
}

// appendTranscript appends the header bytes that the mac covers.
func appendTranscript(b []byte, info HeaderInfo, salt, prefix []byte) []byte {
	b = append(b, streamMagic...)
	b = append(b, formatVersion)
	b = binary.BigEndian.AppendUint32(b, ChunkSize)
	for _, f := range [][]byte{
		[]byte(info.Key.RootKeyID), []byte(info.Key.KeyVersion),
		info.Key.Ciphertext, []byte(info.Context),
	} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	b = append(b, salt...)
	return append(b, prefix...)
}

// marshal returns the whole encoded header.
func (h *Header) marshal() []byte {
	b := appendTranscript(nil, h.info, h.salt[:], h.prefix[:])
	return append(b, h.mac[:]...)
}

// ReadHeader reads exactly one stream header from src and leaves src at the
// first body byte. Errors wrap ErrFormat for input that is not a version 1
// header, or are src's read error.
func ReadHeader(src io.Reader) (*Header, error) {
	var fixed [fixedHeaderLen]byte
	if _, err := io.ReadFull(src, fixed[:]); err != nil {
		return nil, headerReadError(err)
	}
	if err := checkFixedHeader(fixed[:]); err != nil {
		return nil, err
	}
	h := &Header{}
	var err error
	var rootKeyID, keyVersion, context []byte
	for _, f := range []struct {
		dst *[]byte
		max int
	}{
		{&rootKeyID, MaxRootKeyIDLen}, {&keyVersion, MaxKeyVersionLen},
		{&h.info.Key.Ciphertext, MaxWrappedKeyLen}, {&context, MaxContextLen},
	} {
		if *f.dst, err = readField(src, f.max); err != nil {
			return nil, err
		}
	}
	h.info.Key.RootKeyID, h.info.Key.KeyVersion = string(rootKeyID), string(keyVersion)
	h.info.Context = string(context)
	for _, b := range [][]byte{h.salt[:], h.prefix[:], h.mac[:]} {
		if _, err := io.ReadFull(src, b); err != nil {
			return nil, headerReadError(err)
		}
	}
	return h, nil
}

func checkFixedHeader(b []byte) error {
	if string(b[:len(streamMagic)]) != streamMagic {
		return fmt.Errorf("%w: not a byokflow stream (bad magic)", ErrFormat)
	}
	if v := b[len(streamMagic)]; v != formatVersion {
		return fmt.Errorf("%w: unsupported version %d", ErrFormat, v)
	}
	if cs := binary.BigEndian.Uint32(b[len(streamMagic)+1:]); cs != ChunkSize {
		return fmt.Errorf("%w: unsupported chunk size %d", ErrFormat, cs)
	}
	return nil
}

// readField reads a u16 length and that many bytes, at most max.
func readField(src io.Reader, max int) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(src, l[:]); err != nil {
		return nil, headerReadError(err)
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n > max {
		return nil, fmt.Errorf("%w: header field of %d bytes exceeds limit %d", ErrFormat, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(src, b); err != nil {
		return nil, headerReadError(err)
	}
	return b, nil
}

func headerReadError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated header", ErrFormat)
	}
	return fmt.Errorf("encryption: read header: %w", err)
}
