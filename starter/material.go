package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"

	kp "github.com/IBM/keyprotect-go-client"
)

// Root key material comes from the operator's file and goes only to Key
// Protect, from this process, with the operator's credentials: it is read
// once, never printed, logged or stored, never put in a workflow input,
// and its bytes are cleared once sent. (The base64 text the client needs
// is an immutable Go string; it dies with this short-lived process.)

// maxMaterialFile bounds what is read of a material file.
const maxMaterialFile = 64

// importTokenSeconds is the life of the import token made for one import
// or rotation, the shortest Key Protect allows: it is used at once.
const importTokenSeconds = 300

// readMaterial reads root key material: 16, 24 or 32 raw bytes.
func readMaterial(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key material: %w: give the file of raw key material", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMaterialFile+1))
	if err != nil {
		clear(b)
		return nil, fmt.Errorf("read key material from %s: %w: check the file", path, err)
	}
	if n := len(b); n == 16 || n == 24 || n == 32 {
		return b, nil
	}
	size := fmt.Sprintf("%d bytes", len(b))
	if len(b) > maxMaterialFile {
		size = fmt.Sprintf("more than %d bytes", maxMaterialFile)
	}
	clear(b)
	return nil, fmt.Errorf("read key material from %s: it holds %s: root key material is 16, 24 or 32 raw "+
		"bytes (AES-128, -192 or -256), not text: make it with your HSM or, to try, `openssl rand 32 > %s`", path, size, path)
}

// sealedMaterial is material as Key Protect takes it: the plain base64
// payload, or for secure import the payload encrypted under an import
// token's transport key, with the token's nonce encrypted under the
// material (the proof of possession) and its IV.
type sealedMaterial struct {
	payload, nonce, iv string
}

func (m sealedMaterial) forRotation() *kp.KeyPayload {
	p := kp.NewKeyPayload(m.payload, m.nonce, m.iv)
	if m.nonce != "" {
		p = p.WithRSA256()
	}
	return &p
}

// sealMaterial prepares material for Key Protect instance kpInstance. For
// secure import it creates the instance's import token (replacing any
// other) and retrieves its transport key and nonce.
func sealMaterial(ctx context.Context, c *kp.Client, kpInstance string, material []byte, secure bool) (sealedMaterial, error) {
	plain := base64.StdEncoding.EncodeToString(material)
	if !secure {
		return sealedMaterial{payload: plain}, nil
	}
	if _, err := c.CreateImportToken(ctx, importTokenSeconds, 1); err != nil {
		return sealedMaterial{}, fmt.Errorf("create an import token in Key Protect instance %s: %w: "+
			"check that IBMCLOUD_API_KEY has Writer or Manager on the instance", kpInstance, err)
	}
	tok, err := c.GetImportTokenTransportKey(ctx)
	if err != nil {
		return sealedMaterial{}, fmt.Errorf("retrieve the import token of Key Protect instance %s: %w: "+
			"another import may have replaced it; run the command again", kpInstance, err)
	}
	payload, err := kp.EncryptKey(plain, tok.Payload)
	if err != nil {
		return sealedMaterial{}, fmt.Errorf("encrypt key material under the import token's transport key: %w: "+
			"the token's transport key is unusable; run the command again for a new token", err)
	}
	nonce, iv, err := kp.EncryptNonce(plain, tok.Nonce, "")
	if err != nil {
		return sealedMaterial{}, fmt.Errorf("encrypt the import token's nonce under the key material: %w: "+
			"run the command again for a new token", err)
	}
	return sealedMaterial{payload: payload, nonce: nonce, iv: iv}, nil
}
