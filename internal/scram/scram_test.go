package scram

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// keys splits a verifier into salt, StoredKey and ServerKey.
func keys(t *testing.T, v string) (salt, stored, server []byte) {
	t.Helper()
	if err := Check(v); err != nil {
		t.Fatal(err)
	}
	rest := strings.TrimPrefix(v, "SCRAM-SHA-256$4096:")
	s, k, _ := strings.Cut(rest, "$")
	st, sv, _ := strings.Cut(k, ":")
	dec := func(x string) []byte {
		b, err := base64.StdEncoding.DecodeString(x)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return dec(s), dec(st), dec(sv)
}

func TestVerifier_IsWellFormedWithFreshSalt(t *testing.T) {
	a, err := Verifier("pencil")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Verifier("pencil")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "SCRAM-SHA-256$4096:") {
		t.Fatalf("verifier %q lacks the PostgreSQL prefix", a)
	}
	saltA, _, _ := keys(t, a)
	saltB, _, _ := keys(t, b)
	if len(saltA) != 16 || string(saltA) == string(saltB) {
		t.Fatalf("salts must be 16 fresh random bytes, got %x and %x", saltA, saltB)
	}
}

// RFC 7677 section 3: user "user", password "pencil". A server holding only
// the verifier must accept the RFC's client proof and produce its server
// signature.
func TestBuild_RFC7677Vector(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := build("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	_, stored, server := keys(t, v)
	const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	authMessage := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=" + nonce
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	wantSig := "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

	clientSig := mac(stored, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	if h := sha256.Sum256(clientKey); !hmac.Equal(h[:], stored) {
		t.Fatal("the RFC 7677 client proof does not verify against StoredKey")
	}
	if got := base64.StdEncoding.EncodeToString(mac(server, authMessage)); got != wantSig {
		t.Fatalf("server signature %s, want %s", got, wantSig)
	}
}

// Verifiers PostgreSQL 15 itself made (SET password_encryption =
// 'scram-sha-256'; CREATE ROLE v PASSWORD '...'; SELECT rolpassword),
// frozen: with the same salt, build must give the same string.
func TestBuild_MatchesPostgreSQLVerifiers(t *testing.T) {
	for password, want := range map[string]string{
		"pencil": "SCRAM-SHA-256$4096:v5Ex95Lx2Um2YLGgX3NW5g==$dODhrkIiEwCROrVc43C907lbXqVh801xsap9aO0toW0=:" +
			"I12bjtWTj9K1Qnr/HfacPAqYyL4iuw8M0OOPbs1PDuQ=",
		"Byokflow-vector_2026!": "SCRAM-SHA-256$4096:Cfom4wKqsO+grBTHfT+0xw==$Xe8Gw2Vs8N+zu+GR/Vu/gKHjw8JXi1yF2UcW4lHUDIY=:" +
			"R3tlfcjlfLgnHlmo28QQ4ng5274n31PjLT5n5smzg1w=",
	} {
		salt, _, _ := keys(t, want)
		got, err := build(password, salt, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("build(%q) = %s, want PostgreSQL's %s", password, got, want)
		}
	}
}

func TestCheck_RejectsMalformed(t *testing.T) {
	good, _ := Verifier("pencil")
	for name, v := range map[string]string{
		"plaintext":       "pencil",
		"md5":             "md5" + strings.Repeat("a", 32),
		"no keys":         "SCRAM-SHA-256$4096:c2FsdA==",
		"bad iterations":  strings.Replace(good, "$4096:", "$-1:", 1),
		"short key":       good[:len(good)-8] + "=",
		"not base64 salt": strings.Replace(good, "$4096:", "$4096:!!", 1),
	} {
		if err := Check(v); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Check = %v, want ErrMalformed", name, err)
		} else if strings.Contains(err.Error(), v) {
			t.Errorf("%s: error quotes the input", name)
		}
	}
}

func TestVerifier_RejectsPasswordsPostgreSQLWouldNormalize(t *testing.T) {
	for _, p := range []string{"", "caf\u00e9", "tab\there"} {
		if _, err := Verifier(p); err == nil {
			t.Errorf("Verifier(%q) succeeded", p)
		}
	}
}

func TestNewPassword_Is32URLSafeRandomChars(t *testing.T) {
	a, err := NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPassword()
	if len(a) != 32 || a == b {
		t.Fatalf("passwords %q and %q: want 32 characters, fresh each time", a, b)
	}
	if strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Fatalf("password %q has a character that is not URL-safe", a)
	}
	if _, err := Verifier(a); err != nil {
		t.Fatal(err)
	}
}
