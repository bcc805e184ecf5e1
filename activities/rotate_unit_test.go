package activities

//go:generate go run go.uber.org/mock/mockgen@v0.6.0 -source=activities.go -destination=mocks_test.go -package activities

import (
	"context"
	"encoding/json"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/byokflow/byokflow/contract"
)

// keyAt is the metadata of an active root key at version.
func keyAt(version string) *kp.Key {
	return &kp.Key{ID: "k1", State: int(kp.Active), Extractable: false, KeyVersion: &kp.KeyVersion{ID: version}}
}

// kpError is a Key Protect error as the client returns it.
func kpError(t *testing.T, status int, code string) error {
	var e kp.Error
	require.NoError(t, json.Unmarshal([]byte(`{"Reasons":[{"Code":"`+code+`"}]}`), &e))
	e.StatusCode = status
	return &e
}

// The rotation's idempotency, with strict expectations on the Key Protect
// client: rotate exactly when the key is still at the version the workflow
// started from, never a second time.
func TestRotateKey_RotatesOnlyFromTheRecordedVersion(t *testing.T) {
	tests := []struct {
		name        string
		current     string
		rotateCalls int
		rotated     bool
		want        string
	}{
		{"still at the recorded version: rotate once", "v1", 1, true, "v2"},
		{"already rotated by an earlier attempt: do not rotate again", "v2", 0, false, "v2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := NewMockKeyAdmin(gomock.NewController(t))
			versions := []string{tc.current, "v2"}
			keys.EXPECT().GetKeyMetadata(gomock.Any(), "k1").DoAndReturn(func(context.Context, string) (*kp.Key, error) {
				v := versions[0]
				versions = versions[1:]
				return keyAt(v), nil
			}).Times(1 + tc.rotateCalls)
			keys.EXPECT().RotateV2(gomock.Any(), "k1", nil).Return(nil).Times(tc.rotateCalls)
			acts := New(Config{KPInstanceID: "kp"}, Clients{Keys: keys})

			res, err := acts.RotateKey(context.Background(), contract.RotateKeyInput{RootKeyID: "k1", FromVersionID: "v1"})

			require.NoError(t, err)
			require.Equal(t, contract.RotateKeyResult{KeyVersionID: tc.want, Rotated: tc.rotated}, res)
		})
	}
}

func TestRotateKey_SecondRotationWithinTheHourIsTyped(t *testing.T) {
	keys := NewMockKeyAdmin(gomock.NewController(t))
	keys.EXPECT().GetKeyMetadata(gomock.Any(), "k1").Return(keyAt("v1"), nil).Times(2)
	keys.EXPECT().RotateV2(gomock.Any(), "k1", nil).Return(kpError(t, 409, "KEY_ROTATION_NOT_PERMITTED"))
	acts := New(Config{KPInstanceID: "kp"}, Clients{Keys: keys})

	_, err := acts.RotateKey(context.Background(), contract.RotateKeyInput{RootKeyID: "k1", FromVersionID: "v1"})

	require.Equal(t, contract.ErrTypeRotationTooSoon, contract.ErrorType(err))
	require.Contains(t, err.Error(), "--rewrap-only")
}

// A rotation whose answer was lost: the client retried the POST, Key
// Protect refused the retry, and the key is at a new version all the same.
func TestRotateKey_RefusedRetryAfterALostAnswerIsThisRotation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rotateErr error
	}{
		{"RotationTooSoon", kpError(t, 409, "KEY_ROTATION_NOT_PERMITTED")},
		{"connection error", context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := NewMockKeyAdmin(gomock.NewController(t))
			gomock.InOrder(
				keys.EXPECT().GetKeyMetadata(gomock.Any(), "k1").Return(keyAt("v1"), nil),
				keys.EXPECT().RotateV2(gomock.Any(), "k1", nil).Return(tc.rotateErr),
				keys.EXPECT().GetKeyMetadata(gomock.Any(), "k1").Return(keyAt("v2"), nil),
			)
			acts := New(Config{KPInstanceID: "kp"}, Clients{Keys: keys})

			res, err := acts.RotateKey(context.Background(), contract.RotateKeyInput{RootKeyID: "k1", FromVersionID: "v1"})

			require.NoError(t, err)
			require.Equal(t, contract.RotateKeyResult{KeyVersionID: "v2", Rotated: true}, res)
		})
	}
}

// A refused rotation after which the key is still at the recorded version
// did not happen: its error stands.
func TestRotateKey_RefusedRotationWithoutANewVersionFails(t *testing.T) {
	keys := NewMockKeyAdmin(gomock.NewController(t))
	keys.EXPECT().GetKeyMetadata(gomock.Any(), "k1").Return(keyAt("v1"), nil).Times(2)
	keys.EXPECT().RotateV2(gomock.Any(), "k1", nil).Return(context.DeadlineExceeded)
	acts := New(Config{KPInstanceID: "kp"}, Clients{Keys: keys})

	_, err := acts.RotateKey(context.Background(), contract.RotateKeyInput{RootKeyID: "k1", FromVersionID: "v1"})

	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Empty(t, contract.ErrorType(err), "a connection error stays retryable")
}
