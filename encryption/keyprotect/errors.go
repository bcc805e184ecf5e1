package keyprotect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/keyprotect-go-client/iam"

	"github.com/byokflow/byokflow/encryption"
)

// Sentinel errors of the Wrapper, for errors.Is. They are the encryption
// package's KMS-neutral errors, so callers of encryption.KeyWrapper can
// branch on either name.
var (
	// ErrKeyDestroyed: the root key was deleted (HTTP 410, KEY_DELETED_ERR).
	ErrKeyDestroyed = encryption.ErrRootKeyDestroyed
	// ErrKeySuspended: the root key is disabled, or for wrap expired
	// (HTTP 409 KEY_ACTION_INVALID_STATE_ERR).
	ErrKeySuspended = encryption.ErrRootKeySuspended
	// ErrKeyNotFound: no such root key, or it was purged (HTTP 404).
	ErrKeyNotFound = encryption.ErrRootKeyNotFound
	// ErrNotAuthorized: bad credentials, or no IAM authorization for this
	// key (HTTP 401 or 403, or IAM refusing the API key).
	ErrNotAuthorized = encryption.ErrNotAuthorized
	// ErrUnavailable: Key Protect or IAM could not be reached, rate-limited
	// the call (429) or failed (5xx), or the context ended. Retry.
	ErrUnavailable = encryption.ErrKMSUnavailable
	// ErrInvalidCiphertext: Key Protect could not unwrap the ciphertext:
	// tampered, from another key, or other aad (HTTP 422).
	ErrInvalidCiphertext = encryption.ErrInvalidCiphertext
)

const (
	opWrap     = "wrap data key under"
	opUnwrap   = "unwrap data key with"
	opMetadata = "read metadata of"
)

// kpError is a classified client error. Its text names the operation, the
// root key, the class, the HTTP status, the reason codes and the correlation
// id: never key material, nor a response body.
type kpError struct {
	op, rootKeyID string
	kind          error // a sentinel above, or nil when unclassified
	detail        string
	causes        []error
}

func (e *kpError) Error() string {
	msg := e.op + " root key " + e.rootKeyID
	if e.kind != nil {
		msg += ": " + e.kind.Error()
	}
	return msg + ": " + e.detail
}

func (e *kpError) Unwrap() []error {
	if e.kind == nil {
		return e.causes
	}
	return append([]error{e.kind}, e.causes...)
}

// classify maps an error of the Key Protect client onto the sentinels.
func classify(op, rootKeyID string, err error) error {
	e := &kpError{op: op, rootKeyID: rootKeyID, causes: []error{err}}
	var apiErr *kp.Error
	var urlErr *kp.URLError
	var iamErr iam.Error
	var netErr *url.Error
	switch {
	case errors.As(err, &apiErr):
		codes := reasonCodes(apiErr)
		e.kind = classifyStatus(op, apiErr.StatusCode, codes)
		e.detail = fmt.Sprintf("key protect answered %d %s", apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
		if len(codes) > 0 {
			e.detail += " (" + strings.Join(codes, ", ") + ")"
		}
		e.detail += ", correlation id " + apiErr.CorrelationID
	case errors.As(err, &urlErr):
		e.kind = ErrUnavailable
		e.detail = "request failed, correlation id " + urlErr.CorrelationID
		if urlErr.Err != nil {
			e.detail += ": " + urlErr.Err.Error()
			e.causes = append(e.causes, urlErr.Err) // context.Canceled and the like
		}
	case errors.As(err, &iamErr):
		e.kind, e.detail = classifyIAM(iamErr)
	case errors.As(err, &netErr), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.kind, e.detail = ErrUnavailable, err.Error() // e.g. the IAM token endpoint unreachable
	default:
		e.detail = err.Error()
	}
	return e
}

func classifyStatus(op string, status int, codes []string) error {
	switch {
	case status == http.StatusGone || slices.Contains(codes, "KEY_DELETED_ERR"):
		return ErrKeyDestroyed
	case status == http.StatusNotFound:
		return ErrKeyNotFound
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrNotAuthorized
	case status == http.StatusConflict && slices.Contains(codes, "KEY_ACTION_INVALID_STATE_ERR"):
		return ErrKeySuspended
	case status == http.StatusUnprocessableEntity:
		return ErrInvalidCiphertext
	case status == http.StatusBadRequest && op == opUnwrap && slices.Contains(codes, "INVALID_FIELD_ERR"):
		return ErrInvalidCiphertext // ciphertext that is not even base64
	case status == http.StatusTooManyRequests || status >= http.StatusInternalServerError:
		return ErrUnavailable
	}
	return nil
}

func classifyIAM(e iam.Error) (error, string) {
	status := 0
	if e.HTTPResponse != nil {
		status = e.HTTPResponse.StatusCode
	}
	detail := fmt.Sprintf("iam token request answered %d %s", status, e.ErrorCode)
	if status == http.StatusTooManyRequests || status >= http.StatusInternalServerError {
		return ErrUnavailable, detail
	}
	return ErrNotAuthorized, detail
}

func reasonCodes(e *kp.Error) []string {
	codes := make([]string, 0, len(e.Reasons))
	for _, r := range e.Reasons {
		codes = append(codes, r.Code)
	}
	return codes
}
