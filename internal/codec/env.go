package codec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/encryption/keyprotect"
	"github.com/byokflow/byokflow/internal/ibmenv"
)

// Environment of the codec. BYOK_CODEC_API_KEY and
// BYOK_CODEC_KP_INSTANCE_ID (package ibmenv) name the platform identity and
// its Key Protect instance; BYOK_KP_URL and BYOK_IAM_URL are shared.
const (
	// EnvKeyring is the path of the keyring file (wrapped keys only).
	EnvKeyring = "BYOK_CODEC_KEYRING"
	// EnvSwitch set to "off" runs without the codec: histories in clear.
	// For development and the scan test's control run only.
	EnvSwitch = "BYOK_CODEC"
	// EnvRootKey is the platform root key new codec keys are wrapped by;
	// when unset, a rotation uses the root key of the newest key.
	EnvRootKey = "BYOK_CODEC_ROOT_KEY_ID"
	// EnvRefresh is how often a process looks for a key a rotation added
	// (a Go duration; default 1m).
	EnvRefresh = "BYOK_CODEC_REFRESH"
)

// ErrOff is returned by FromEnv when BYOK_CODEC=off.
var ErrOff = errors.New("the payload codec is off (BYOK_CODEC=off): workflow histories are stored in clear")

// Wrapper returns the KeyWrapper of the platform identity from the
// environment (getenv; os.Getenv when nil).
func Wrapper(getenv func(string) string) (encryption.KeyWrapper, *ibmenv.Env, error) {
	env := ibmenv.Read(getenv)
	kpc, err := env.CodecKP()
	if err != nil {
		return nil, nil, err
	}
	return keyprotect.New(kpc), &env, nil
}

// FromEnv opens the keyring BYOK_CODEC_KEYRING names with the platform
// identity and returns its codec; ErrOff when BYOK_CODEC=off.
func FromEnv(ctx context.Context, getenv func(string) string) (*Codec, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv(EnvSwitch) == "off" {
		return nil, ErrOff
	}
	path := getenv(EnvKeyring)
	if path == "" {
		return nil, errors.New("start the payload codec: BYOK_CODEC_KEYRING is not set: point it at the codec keyring " +
			"(`make stack` writes it to .run/env), or set BYOK_CODEC=off to keep histories in clear (development only)")
	}
	w, _, err := Wrapper(getenv)
	if err != nil {
		return nil, err
	}
	ring, err := Open(ctx, path, w)
	if err != nil {
		return nil, err
	}
	if v := getenv(EnvRefresh); v != "" {
		if ring.refresh, err = time.ParseDuration(v); err != nil {
			return nil, fmt.Errorf("start the payload codec: %s=%q is not a duration such as 1m", EnvRefresh, v)
		}
	}
	return New(ring), nil
}

// CreateRootKey creates a root key named name in the codec's Key Protect
// instance with the platform identity (which then needs Writer there) and
// returns its id. Production platforms usually create it once by hand and
// set BYOK_CODEC_ROOT_KEY_ID instead.
func CreateRootKey(ctx context.Context, getenv func(string) string, name string) (string, error) {
	env := ibmenv.Read(getenv)
	kpc, err := env.CodecKP()
	if err != nil {
		return "", err
	}
	key, err := kpc.CreateRootKey(ctx, name, nil)
	if err != nil {
		return "", fmt.Errorf("create platform root key %s in Key Protect instance %s: %w", name, env.CodecKPInstanceID, err)
	}
	return key.ID, nil
}
