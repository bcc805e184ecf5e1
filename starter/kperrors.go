package main

import (
	"errors"
	"net/http"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/keyprotect-go-client/iam"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

// typedKPError gives an error of the CLI's own Key Protect or IAM calls
// (keys create, keys show, ...) the contract type a workflow would give
// the same answer, so that the operator reads [AccessDenied] for a wrong,
// deleted or expired credential, [KeyNotFound] for an unknown key, as the
// workflows' errors say. Errors that are typed already, and errors that
// are not Key Protect's or IAM's answers (an unreachable endpoint), are
// returned as they are. The message keeps err's, which names the call and
// the ids, and adds what to do; it never holds the API key.
func typedKPError(err error) error {
	var appErr *temporal.ApplicationError
	if err == nil || errors.As(err, &appErr) {
		return err
	}
	var ie iam.Error
	if errors.As(err, &ie) {
		if ie.HTTPResponse != nil && (ie.HTTPResponse.StatusCode == http.StatusTooManyRequests ||
			ie.HTTPResponse.StatusCode >= 500) {
			return err // IAM overloaded or down: running again may work
		}
		return contract.NewError(contract.ErrTypeAccessDenied, err.Error()+
			"; IAM refused the API key: set IBMCLOUD_API_KEY to a current API key of the account "+
			"(a deleted or rotated key is refused)", err)
	}
	var ke *kp.Error
	if !errors.As(err, &ke) {
		return err
	}
	switch ke.StatusCode {
	case http.StatusUnauthorized:
		return contract.NewError(contract.ErrTypeAccessDenied, err.Error()+
			"; Key Protect refused the IAM token (invalid or expired): run the command again, and check that "+
			"IBMCLOUD_API_KEY is an API key of the account that owns the Key Protect instance", err)
	case http.StatusForbidden:
		return contract.NewError(contract.ErrTypeAccessDenied, err.Error()+
			"; give the identity of IBMCLOUD_API_KEY Manager on the Key Protect instance", err)
	case http.StatusNotFound:
		return contract.NewError(contract.ErrTypeKeyNotFound, err.Error()+
			"; check the key id or alias and the Key Protect instance (--kp-instance, BYOK_KP_INSTANCE_ID)", err)
	case http.StatusGone:
		return contract.NewError(contract.ErrTypeKeyDestroyed, err.Error()+
			"; the key is destroyed: restore it within 30 days of its deletion, or use another root key", err)
	case http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
		return contract.NewError(contract.ErrTypeInvalidInput, err.Error()+
			"; Key Protect rejected the request: correct the flags (`starter COMMAND -h`)", err)
	}
	return err
}
