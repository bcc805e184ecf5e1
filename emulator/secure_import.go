package emulator

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSAES_OAEP_SHA_1 is what the client sends when asked for it
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"hash"
	"net/http"
)

// Encryption algorithms of secure import (the client's AlgorithmRSAOAEP*).
const (
	algRSAOAEP256 = "RSAES_OAEP_SHA_256"
	algRSAOAEP1   = "RSAES_OAEP_SHA_1"
)

// importReq is the key material of a create or rotate request: a plain
// base64 payload, or with EncryptedNonce and IV a payload encrypted under
// the instance's import token.
type importReq struct {
	Payload, EncryptedNonce, IV, Algorithm string
}

func (r importReq) secure() bool { return r.EncryptedNonce != "" || r.IV != "" }

// materialFor is the material of a new key or key version: generated when
// the request carries none, else its plain payload, or with an encrypted
// nonce its payload imported securely under the instance's import token.
// The caller holds the lock and clears the result.
func (s *Server) materialFor(inst *instance, r importReq, extractable bool) ([]byte, *apiError) {
	if !r.secure() {
		if e := checkTokenPolicy(inst, r.Payload != ""); e != nil {
			return nil, e
		}
		return keyMaterial(r.Payload, extractable)
	}
	if extractable {
		return nil, rootRequired()
	}
	return s.unwrapImport(inst, r)
}

// unwrapImport decrypts the payload with the import token's private key
// and checks that the encrypted nonce is the token's nonce under the
// decrypted material: the proof that the caller holds the material.
func (s *Server) unwrapImport(inst *instance, r importReq) ([]byte, *apiError) {
	if e := checkSecureFields(r); e != nil {
		return nil, e
	}
	h, e := oaepHash(r.Algorithm)
	if e != nil {
		return nil, e
	}
	tok, e := s.liveToken(inst)
	if e != nil {
		return nil, e
	}
	secret, err := s.openToken(inst.ID, tok)
	if err != nil {
		return nil, internalErr()
	}
	defer clear(secret.PrivateKey)
	material, e := decryptPayload(secret.PrivateKey, h, r.Payload)
	if e != nil {
		return nil, e
	}
	if len(material) != 16 && len(material) != 24 && len(material) != 32 {
		clear(material)
		return nil, fieldErr("payload", "encrypted key material of 128, 192 or 256 bits")
	}
	if e := checkNonce(material, secret.Nonce, r.EncryptedNonce, r.IV); e != nil {
		clear(material)
		return nil, e
	}
	return material, nil
}

func checkSecureFields(r importReq) *apiError {
	switch {
	case r.Payload == "":
		return fieldErr("payload", "the key material encrypted with the import token's public key")
	case r.EncryptedNonce == "":
		return fieldErr("encryptedNonce", "the import token's nonce encrypted with the key material, given with iv")
	case r.IV == "":
		return fieldErr("iv", "the initialization vector of the encrypted nonce, given with encryptedNonce")
	}
	return nil
}

// oaepHash maps encryptionAlgorithm to the OAEP hash; empty is SHA-256.
func oaepHash(alg string) (hash.Hash, *apiError) {
	switch alg {
	case "", algRSAOAEP256:
		return sha256.New(), nil
	case algRSAOAEP1:
		return sha1.New(), nil //nolint:gosec
	}
	return nil, fieldErr("encryptionAlgorithm", algRSAOAEP256+" or "+algRSAOAEP1)
}

func decryptPayload(der []byte, h hash.Hash, payload string) ([]byte, *apiError) {
	bad := fieldErr("payload", "key material encrypted with the import token's public key by RSA-OAEP "+
		"(SHA-256, or SHA-1 when encryptionAlgorithm is "+algRSAOAEP1+"), base64 encoded")
	ct, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, bad
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	priv, ok := key.(*rsa.PrivateKey)
	if err != nil || !ok {
		return nil, internalErr()
	}
	material, err := rsa.DecryptOAEP(h, nil, priv, ct, nil)
	if err != nil {
		return nil, bad
	}
	return material, nil
}

var errNonce = errors.New("nonce does not open")

// checkNonce opens the encrypted nonce under the material: AES-GCM for a
// 12-byte IV (Key Protect), AES-CBC with PKCS #7 padding for a 16-byte IV
// (the client's EncryptNonceWithCBCPAD, as Hyper Protect Crypto Services
// takes it), and compares it with the token's nonce.
func checkNonce(material, want []byte, encNonce, iv string) *apiError {
	ct, err1 := base64.StdEncoding.DecodeString(encNonce)
	ivb, err2 := base64.StdEncoding.DecodeString(iv)
	got, err := openNonce(material, ct, ivb)
	if err1 != nil || err2 != nil || err != nil {
		return newErr(http.StatusBadRequest, codeIncorrectNonceIV, "The provided encrypted nonce was not encrypted "+
			"with the key material given OR the provided IV does not match the encrypted nonce")
	}
	defer clear(got)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return newErr(http.StatusBadRequest, codeIncorrectNonce, "The encrypted nonce given does not match existing "+
			"record: Please ensure the correct nonce was given in the request")
	}
	return nil
}

func openNonce(material, ct, iv []byte) ([]byte, error) {
	block, err := aes.NewCipher(material)
	if err != nil {
		return nil, err
	}
	switch len(iv) {
	case 12:
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		return gcm.Open(nil, iv, ct, nil)
	case aes.BlockSize:
		return openCBCPad(block, ct, iv)
	}
	return nil, errNonce
}

func openCBCPad(block cipher.Block, ct, iv []byte) ([]byte, error) {
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errNonce
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	n := int(pt[len(pt)-1])
	if n == 0 || n > aes.BlockSize || !bytes.Equal(pt[len(pt)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errNonce
	}
	return pt[:len(pt)-n], nil
}

// checkTokenPolicy applies enforce_token of the keyCreateImportAccess
// instance policy to material imported without an import token: it may
// then come only through one.
func checkTokenPolicy(inst *instance, plainImport bool) *apiError {
	p := inst.Policies["keyCreateImportAccess"]
	if !plainImport || p == nil || !p.Enabled {
		return nil
	}
	if a := p.attrs(); a.EnforceToken != nil && *a.EnforceToken {
		return conflict(codeCreateImportAccess, "KeyCreateImportAccess instance policy requires key material "+
			"to be imported with an import token")
	}
	return nil
}
