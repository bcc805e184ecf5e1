package activities

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/keyprotect-go-client/iam"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// kpErr builds a *kp.Error as keyprotect-go-client returns it. Its reason
// type is unexported, so the error is decoded from JSON.
func kpErr(t *testing.T, status int, code, message string) *kp.Error {
	t.Helper()
	var e kp.Error
	raw := fmt.Sprintf(`{"StatusCode":%d,"Message":"errorMsg of %s","BodyContent":"c2VjcmV0LWxvb2tpbmctYm9keQ==",
		"Reasons":[{"Code":%q,"Message":%q}]}`, status, code, code, message)
	require.NoError(t, json.Unmarshal([]byte(raw), &e))
	return &e
}

func TestClassifyKP_Cases(t *testing.T) {
	op := kpOp{verb: "rotate root key", keyID: "k1", instance: "kp-1", serviceName: "svc", accountID: "acct"}
	svc := op
	svc.service = true
	tests := []struct {
		name      string
		op        kpOp
		err       error
		wantType  string // "" means transient
		fragments []string
	}{
		{"rotation too soon", op, kpErr(t, 409, codeRotationNotAllowed, "rotated within the last hour"),
			contract.ErrTypeRotationTooSoon, []string{"rotate root key k1: the key was rotated within the last hour", "--rewrap-only"}},
		{"not found", op, kpErr(t, 404, codeKeyNotFound, "Key does not exist"),
			contract.ErrTypeKeyNotFound, []string{"not found in Key Protect instance kp-1", "KEY_NOT_FOUND_ERR"}},
		{"gone", op, kpErr(t, 410, "KEY_DELETED_ERR", "deleted"),
			contract.ErrTypeKeyDestroyed, []string{"the key is destroyed", "ibmcloud kp key restore k1"}},
		{"imported key without material", op, kpErr(t, 400, codePayloadRequired, "Key material is required"),
			contract.ErrTypeKeyMaterialRequired, []string{"rotate root key k1: the key was imported in Key Protect instance kp-1",
				"--material-file FILE", "--rewrap-only"}},
		{"standard key", op, kpErr(t, 400, codeRootRequired, "root key only"), contract.ErrTypeNotRootKey, nil},
		{"registration standard key", svc, kpErr(t, 422, codeRegRootRequired, "root key only"), contract.ErrTypeNotRootKey, nil},
		{"invalid state", op, kpErr(t, 409, codeInvalidState, "not active"), contract.ErrTypeKeyNotActive, nil},
		{"operator forbidden", op, kpErr(t, 403, "INSUFFICIENT_ROLE_ERR", "no role"),
			contract.ErrTypeAccessDenied, []string{"IBMCLOUD_API_KEY", "grant it Manager"}},
		{"service forbidden", svc, kpErr(t, 403, "UNAUTHORIZED_SERVICE", "no policy"),
			contract.ErrTypeServiceNotAuthorized, []string{"source service svc", "role Reader", "--create-authorization"}},
		{"user token for registrations", svc, kpErr(t, 403, codeServiceOnly, "services only"),
			contract.ErrTypeAccessDenied, []string{"BYOK_SERVICE_API_KEY"}},
		{"unauthorized", op, kpErr(t, 401, "", ""), contract.ErrTypeAccessDenied, []string{"account acct"}},
		{"bad request", op, kpErr(t, 400, "INVALID_FIELD_ERR", "bad"), contract.ErrTypeInvalidInput, nil},
		{"registration via KPError", svc, &KPError{StatusCode: 404, Codes: []string{codeKeyNotFound}, Message: "gone"},
			contract.ErrTypeKeyNotFound, nil},
		{"too early", op, kpErr(t, 409, codeTooEarly, "wait"), "", nil},
		{"rate limited", op, kpErr(t, 429, "TOO_MANY_REQUESTS_ERR", "slow down"), "", nil},
		{"server error", op, kpErr(t, 503, "SERVICE_UNAVAILABLE_ERR", "down"), "", nil},
		{"network", op, &kp.URLError{Err: errors.New("connection refused"), CorrelationID: "c"}, "", nil},
		{"token refused", op, iam.Error{ErrorCode: "BXNIM0415E", ErrorMessage: "Provided API key could not be found",
			HTTPResponse: &http.Response{StatusCode: 400}}, contract.ErrTypeAccessDenied, []string{"IBMCLOUD_API_KEY", "BXNIM0415E"}},
		{"token service down", svc, iam.Error{HTTPResponse: &http.Response{StatusCode: 503}}, "", nil},
		{"anything else", op, errors.New("unexpected end of JSON input"), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyKP(tt.err, tt.op)
			if tt.wantType == "" {
				require.Equal(t, "", contract.ErrorType(got), "transient errors carry no contract type")
				require.ErrorIs(t, got, tt.err, "the cause stays in the chain")
				return
			}
			requireTyped(t, got, tt.wantType, tt.fragments...)
			require.NotContains(t, got.Error(), "c2VjcmV0", "raw bodies stay out of messages")
		})
	}
}

func TestClassifyKP_NilIsNil(t *testing.T) {
	require.NoError(t, classifyKP(nil, kpOp{}))
}

func TestParseKPError_ReadsEnvelope(t *testing.T) {
	body := `{"metadata":{"collectionType":"application/vnd.ibm.kms.error+json","collectionTotal":1},
		"resources":[{"errorMsg":"Conflict: Registration could not be created",
		"reasons":[{"code":"REGISTRATION_EXISTS_ERR","message":"A registration already exists","status":409}]}]}`

	got := parseKPError(409, []byte(body))

	require.Equal(t, &KPError{StatusCode: 409, Codes: []string{"REGISTRATION_EXISTS_ERR"},
		Message: "A registration already exists"}, got)
	require.Equal(t, &KPError{StatusCode: 502, Message: "Bad Gateway"}, parseKPError(502, []byte("<html>")))
}

func TestRegistrationExists_Cases(t *testing.T) {
	require.True(t, registrationExists(kpFailure{status: 409, codes: []string{codeRegExists}}))
	require.True(t, registrationExists(kpFailure{status: 409, msg: "Registration already exists"}))
	require.True(t, registrationExists(kpFailure{status: 409}), "an undocumented conflict code means it exists")
	require.False(t, registrationExists(kpFailure{status: 409, codes: []string{codeInvalidState}}))
	require.False(t, registrationExists(kpFailure{status: 409, codes: []string{codeTooEarly}}))
}
