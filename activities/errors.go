package activities

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/keyprotect-go-client/iam"

	"github.com/byokflow/byokflow/contract"
)

// Key Protect reason codes the classifier reads (spec section 4.3).
const (
	codeKeyNotFound        = "KEY_NOT_FOUND_ERR"
	codeInvalidState       = "KEY_ACTION_INVALID_STATE_ERR"
	codeRotationNotAllowed = "KEY_ROTATION_NOT_PERMITTED"
	codePayloadRequired    = "KEY_PAYLOAD_REQ_ERR"
	codeRootRequired       = "KEY_ROOT_REQ_ERR"
	codeRegRootRequired    = "KEY_ROOT_REQ_REG_ERR"
	codeRegInvalidState    = "KEY_INVALID_STATE_ERR"
	codeServiceOnly        = "SERVICE_ONLY_ERR"
	codeTooEarly           = "REQ_TOO_EARLY_ERR"
)

// kpOp describes a Key Protect call for error messages: "<verb> <key>".
type kpOp struct {
	verb     string // e.g. "rotate root key"
	keyID    string
	instance string // the Key Protect instance
	// service is true for calls made with the service identity.
	service     bool
	serviceName string
	accountID   string
}

func (o kpOp) subject() string { return o.verb + " " + o.keyID }

// kpFailure is what a Key Protect error answer says, whichever client
// received it.
type kpFailure struct {
	status int
	codes  []string
	msg    string
}

func (f kpFailure) has(code string) bool { return slices.Contains(f.codes, code) }

func (f kpFailure) String() string {
	if len(f.codes) == 0 {
		return fmt.Sprintf("Key Protect answered HTTP %d: %s", f.status, f.msg)
	}
	return fmt.Sprintf("Key Protect answered HTTP %d %s: %s", f.status, strings.Join(f.codes, ","), f.msg)
}

// kpFailureOf extracts the answer from a *kp.Error or a *KPError.
func kpFailureOf(err error) (kpFailure, bool) {
	var ke *kp.Error
	if errors.As(err, &ke) {
		f := kpFailure{status: ke.StatusCode, msg: shorten(ke.Message)}
		for _, r := range ke.Reasons {
			f.codes = append(f.codes, r.Code)
			if r.Message != "" {
				f.msg = shorten(r.Message)
			}
		}
		return f, true
	}
	var re *KPError
	if errors.As(err, &re) {
		return kpFailure{status: re.StatusCode, codes: re.Codes, msg: shorten(re.Message)}, true
	}
	return kpFailure{}, false
}

// classifyKP turns an error of a Key Protect call into a contract error
// (permanent) or a wrapped error Temporal retries (transient).
func classifyKP(err error, op kpOp) error {
	if err == nil {
		return nil
	}
	if f, ok := kpFailureOf(err); ok {
		return op.fromFailure(f, err)
	}
	var ie iam.Error
	if errors.As(err, &ie) {
		status := 0
		if ie.HTTPResponse != nil {
			status = ie.HTTPResponse.StatusCode
		}
		return op.fromToken(status, ie.ErrorCode+" "+ie.ErrorMessage, err)
	}
	if status, msg, ok := authFailureOf(err); ok {
		return op.fromToken(status, msg, err)
	}
	return fmt.Errorf("%s in Key Protect instance %s: %w", op.subject(), op.instance, err)
}

// fromFailure classifies a Key Protect error answer.
func (o kpOp) fromFailure(f kpFailure, err error) error {
	v := o.verdictFor(f)
	if v.errType == "" {
		return fmt.Errorf("%s in Key Protect instance %s: %s: %w", o.subject(), o.instance, f, err)
	}
	msg := fmt.Sprintf("%s: %s (%s): %s", o.subject(), v.what, f, v.todo)
	return contract.NewError(v.errType, msg, err)
}

// verdict is the classification of a Key Protect answer: the contract
// error type (empty: transient), what went wrong, what to do.
type verdict struct {
	errType, what, todo string
}

func (o kpOp) verdictFor(f kpFailure) verdict {
	in := " in Key Protect instance " + o.instance
	switch {
	case f.status == http.StatusTooManyRequests || f.status >= 500 || f.has(codeTooEarly):
		return verdict{}
	case f.status == http.StatusUnauthorized:
		return verdict{contract.ErrTypeAccessDenied, "Key Protect refused the " + o.identity() + "'s token" + in,
			"check that " + o.keyVariable() + " is an API key of account " + o.accountID + ", which owns the instance"}
	case f.status == http.StatusForbidden:
		return o.forbidden(f)
	case f.status == http.StatusNotFound:
		return verdict{contract.ErrTypeKeyNotFound, "not found" + in, "check the key id or alias; " +
			"a key of another Key Protect instance is not visible here: choose a root key of instance " + o.instance}
	case f.status == http.StatusGone:
		return verdict{contract.ErrTypeKeyDestroyed, "the key is destroyed" + in, "restore it within 30 days " +
			"of its deletion (`ibmcloud kp key restore " + o.keyID + "`), or use another root key"}
	case f.has(codeRotationNotAllowed):
		return verdict{contract.ErrTypeRotationTooSoon, "the key was rotated within the last hour", rotationTooSoonAdvice}
	case f.has(codePayloadRequired):
		return verdict{contract.ErrTypeKeyMaterialRequired, "the key was imported" + in +
			", so Key Protect cannot generate its new material", importedRotationAdvice}
	case f.has(codeRootRequired) || f.has(codeRegRootRequired):
		return verdict{contract.ErrTypeNotRootKey, "the key is a standard key" + in, "BYOK needs a root key: choose one"}
	case f.has(codeInvalidState) || f.has(codeRegInvalidState):
		return verdict{contract.ErrTypeKeyNotActive, "the key's state does not allow this" + in,
			"check it with `ibmcloud kp key show " + o.keyID + "`, then enable or restore it"}
	}
	return verdict{contract.ErrTypeInvalidInput, "Key Protect rejected the request" + in, "check the key id and the request"}
}

// forbidden explains a 403: for the service, the missing authorization
// policy; for the operator, a missing role.
func (o kpOp) forbidden(f kpFailure) verdict {
	switch {
	case o.service && f.has(codeServiceOnly):
		return verdict{contract.ErrTypeAccessDenied, "Key Protect takes registrations from service IDs only",
			"set BYOK_SERVICE_API_KEY to an API key of the " + o.serviceName + " service ID"}
	case o.service:
		return verdict{contract.ErrTypeServiceNotAuthorized, "the service may not use Key Protect instance " + o.instance,
			policyAdvice(o.serviceName, o.accountID, o.instance)}
	}
	return verdict{contract.ErrTypeAccessDenied, "the operator identity (IBMCLOUD_API_KEY) lacks a role on Key Protect instance " +
		o.instance, "grant it Manager on the instance"}
}

// fromToken classifies a failure to get an IAM token.
func (o kpOp) fromToken(status int, what string, err error) error {
	return tokenError(o.subject(), o.identity(), o.keyVariable(), status, what, err)
}

func (o kpOp) identity() string {
	if o.service {
		return "service identity"
	}
	return "operator identity"
}

func (o kpOp) keyVariable() string {
	if o.service {
		return "BYOK_SERVICE_API_KEY"
	}
	return "IBMCLOUD_API_KEY"
}

// rotationTooSoonAdvice is what to do when Key Protect refuses a rotation.
const rotationTooSoonAdvice = "Key Protect allows one rotation per hour: retry later, " +
	"or run with --rewrap-only to bring the nodes to the key's current version"

// importedRotationAdvice is how to rotate an imported root key.
const importedRotationAdvice = "rotate it with new key material: `starter rotate --instance NAME --material-file FILE` " +
	"(the CLI rotates the key in Key Protect with your credentials, then the workflow rewraps the nodes), " +
	"or rotate it in Key Protect yourself and run `starter rotate --instance NAME --rewrap-only`"

// policyAdvice names the IAM authorization policy the service needs.
func policyAdvice(service, account, kpInstance string) string {
	return fmt.Sprintf("no IAM authorization policy lets service %q (account %s) read keys of Key Protect "+
		"instance %s: create one with source service %s, target service kms instance %s, role Reader "+
		"(`ibmcloud iam authorization-policy-create %s kms Reader --target-service-instance-id %s`), "+
		"or provision with --create-authorization to let byokflow create it",
		service, account, kpInstance, service, kpInstance, service, kpInstance)
}

// shorten keeps messages from the wire to one short line.
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
