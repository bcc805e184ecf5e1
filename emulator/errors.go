package emulator

import (
	"fmt"
	"net/http"
)

// Key Protect reason codes (spec §4.3) and the emulator's own codes for
// access denials (README.md).
const (
	codeBadBody             = "BAD_BODY_ERR"
	codeNoBody              = "NO_BODY_ERR"
	codeCollectionMismatch  = "COLLECTION_TOTAL_MISMATCH_ERR"
	codeBodyQueryMismatch   = "BODY_QUERY_PARAM_MISMATCH_ERR"
	codeInvalidField        = "INVALID_FIELD_ERR"
	codeInvalidQuery        = "INVALID_QUERY_PARAM_ERR"
	codeRootRequired        = "KEY_ROOT_REQ_ERR"
	codePayloadRequired     = "KEY_PAYLOAD_REQ_ERR"
	codeKeyExpired          = "KEY_EXPIRED_ERR"
	codeRestoreExpired      = "KEY_RESTORE_EXPIRED"
	codeNumCollection       = "NUM_COLLECTION_RESOURCE_ERR"
	codeServiceOnly         = "SERVICE_ONLY_ERR"
	codeInsufficientRole    = "INSUFFICIENT_ROLE_ERR"
	codeUnauthorizedService = "UNAUTHORIZED_SERVICE"
	codeKeyNotFound         = "KEY_NOT_FOUND_ERR"
	codeInvalidState        = "KEY_ACTION_INVALID_STATE_ERR"
	codeRotationNotAllowed  = "KEY_ROTATION_NOT_PERMITTED"
	codeTooEarly            = "REQ_TOO_EARLY_ERR"
	codeNotDualAuth         = "NOT_DUAL_AUTH_ERR"
	codeAuthorizationsNot   = "AUTHORIZATIONS_NOT_MET"
	codeProtectedResource   = "PROTECTED_RESOURCE_ERR"
	codePrevKeyDel          = "PREV_KEY_DEL_ERR"
	codeCreateImportAccess  = "KEY_CREATE_IMPORT_ACCESS_ERR"
	codeImportTokenExpired  = "IMPORT_TOKEN_EXPIRED_ERR"
	codeIncorrectNonce      = "INCORRECT_NONCE_ERR"
	codeIncorrectNonceIV    = "INCORRECT_NONCE_IV_ERR"
	codeImportTokenNotFound = "IMPORT_TOKEN_NOT_FOUND_ERR"
	codeKeyDeleted          = "KEY_DELETED_ERR"
	codeUnprocessableCT     = "UNPROCESSABLE_CIPHERTEXT_ERR"
	codeRegInvalidState     = "KEY_INVALID_STATE_ERR"
	codeRegRootRequired     = "KEY_ROOT_REQ_REG_ERR"
	codeKeyVersionInvalid   = "KEY_VERSION_INVALID"
	codeRegNotFound         = "REGISTRATION_NOT_FOUND_ERR"
	codeRegExists           = "REGISTRATION_EXISTS_ERR"
	codeAliasNotUnique      = "KEY_ALIAS_NOT_UNIQUE_ERR"
	codeAliasQuota          = "KEY_ALIAS_QUOTA_ERR"
	codeAliasNotFound       = "KEY_ALIAS_NOT_FOUND_ERR"
	codeKeyRingNotFound     = "KEY_RING_NOT_FOUND_ERR"
	codeKeyRingConflict     = "KEY_RING_CONFLICT_ERR"
	codeKeyRingNotEmpty     = "KEY_RING_NOT_EMPTY_ERR"
	codeBodyTooLarge        = "BODY_TOO_LARGE_ERR"
	codeNotImplemented      = "NOT_IMPLEMENTED_ERR"
	codeTooManyRequests     = "TOO_MANY_REQUESTS_ERR"
	codeUnavailable         = "SERVICE_UNAVAILABLE_ERR"
	codeInternal            = "INTERNAL_ERR"
)

const (
	errorType = "application/vnd.ibm.kms.error+json"
	moreInfo  = "https://cloud.ibm.com/apidocs/key-protect"
)

// apiError is a Key Protect error answer. An empty code renders the
// reason-less form used for 401.
type apiError struct {
	status  int
	what    string // "Key could not be deleted"; the route's default when empty
	code    string
	message string
	target  *errTarget
}

type errTarget struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

func newErr(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

func fieldErr(name, must string) *apiError {
	e := newErr(http.StatusBadRequest, codeInvalidField, fmt.Sprintf("The field '%s' must be: %s", name, must))
	e.target = &errTarget{Type: "field", Name: name}
	return e
}

func queryErr(name, must string) *apiError {
	e := newErr(http.StatusBadRequest, codeInvalidQuery, fmt.Sprintf("The query_param '%s' must be: %s", name, must))
	e.target = &errTarget{Type: "query_param", Name: name}
	return e
}

func unauthorized() *apiError { return &apiError{status: http.StatusUnauthorized} }

func keyNotFound() *apiError {
	return newErr(http.StatusNotFound, codeKeyNotFound, "Key does not exist")
}

func invalidState() *apiError {
	return newErr(http.StatusConflict, codeInvalidState, "Key is not in a valid state")
}

func keyDeleted() *apiError {
	return newErr(http.StatusGone, codeKeyDeleted, "Key has already been deleted: Please delete references to this key")
}

func rootRequired() *apiError {
	return newErr(http.StatusBadRequest, codeRootRequired, "Requested action can only be completed with a root key")
}

func badBody(detail string) *apiError {
	msg := "Invalid body data was passed: Please ensure the data passed had valid formatting with no invalid characters"
	if detail != "" {
		msg += ": " + detail
	}
	return newErr(http.StatusBadRequest, codeBadBody, msg)
}

func noBody() *apiError { return newErr(http.StatusBadRequest, codeNoBody, "Missing body in request") }

func collectionMismatch() *apiError {
	return newErr(http.StatusBadRequest, codeCollectionMismatch, "Collection total does not match number of resources")
}

func tooEarly() *apiError {
	return newErr(http.StatusConflict, codeTooEarly, "The key was updated recently: Please wait and try again")
}

func internalErr() *apiError {
	return newErr(http.StatusInternalServerError, codeInternal, "The emulator could not save its state; see its log")
}

// errorEnvelope is the §4.1 wire form.
type errorEnvelope struct {
	Metadata  collectionMeta  `json:"metadata"`
	Resources []errorResource `json:"resources"`
}

type errorResource struct {
	ErrorMsg string        `json:"errorMsg"`
	Reasons  []errorReason `json:"reasons,omitempty"`
}

type errorReason struct {
	Code     string     `json:"code"`
	Message  string     `json:"message"`
	Status   int        `json:"status"`
	MoreInfo string     `json:"moreInfo"`
	Target   *errTarget `json:"target,omitempty"`
}

// envelope renders e; what names the failed operation when e has none.
func (e *apiError) envelope(what string) errorEnvelope {
	res := errorResource{ErrorMsg: "Unauthorized: The user does not have access to the specified resource"}
	if e.code != "" {
		if e.what != "" {
			what = e.what
		}
		res.ErrorMsg = fmt.Sprintf("%s: %s: Please see 'reasons' for more details (%s)",
			http.StatusText(e.status), what, e.code)
		res.Reasons = []errorReason{{Code: e.code, Message: e.message, Status: e.status, MoreInfo: moreInfo, Target: e.target}}
	}
	return errorEnvelope{Metadata: collectionMeta{CollectionType: errorType, CollectionTotal: 1}, Resources: []errorResource{res}}
}

func writeKPError(w http.ResponseWriter, e *apiError, what string) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="IBM Cloud"`)
	}
	writeJSON(w, e.status, e.envelope(what))
}
