package activities

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/byokflow/byokflow/contract"
)

// iamOp describes an IAM policy call for error messages.
type iamOp struct {
	verb   string
	create bool
	target authzTarget // for create: the policy to create by hand
}

// classifyIAM turns an error of an iampolicymanagementv1 call (with its
// response, when there was one) into a contract error or a transient one.
func classifyIAM(err error, resp *core.DetailedResponse, op iamOp) error {
	if status, msg, ok := authFailureOf(err); ok {
		return tokenError(op.verb, "operator identity", "IBMCLOUD_API_KEY", status, msg, err)
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	switch {
	case status == 0 || status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("%s: %w", op.verb, err)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return contract.NewError(contract.ErrTypeAccessDenied, fmt.Sprintf("%s: IAM answered HTTP %d: %s: %s",
			op.verb, status, shorten(err.Error()), op.accessAdvice()), err)
	}
	return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("%s: IAM answered HTTP %d: %s: check BYOK_ACCOUNT_ID",
		op.verb, status, shorten(err.Error())), err)
}

func (o iamOp) accessAdvice() string {
	if !o.create {
		return "the operator identity (IBMCLOUD_API_KEY) needs Viewer on IAM policy management to list policies"
	}
	return "the operator identity (IBMCLOUD_API_KEY) needs Administrator on Key Protect to create the policy; " +
		"or let an administrator create it: " + policyAdvice(o.target.ServiceName, o.target.AccountID, o.target.KPInstanceID)
}

// tokenOperation is the operation id go-sdk-core gives the HTTP problem
// of a failed IAM token request.
const tokenOperation = "get_token"

// authFailureOf reports whether err is a failure to get an IAM token from
// a go-sdk-core authenticator, with the token endpoint's status and
// message. go-sdk-core returns it as an AuthenticationError from the
// authenticator, and as an SDKProblem caused by the token request's
// HTTPProblem from a service call.
func authFailureOf(err error) (int, string, bool) {
	var ae *core.AuthenticationError
	if errors.As(err, &ae) && ae.HTTPProblem != nil {
		return problemStatus(ae.HTTPProblem), ae.HTTPProblem.Error(), true
	}
	var hp *core.HTTPProblem
	if errors.As(err, &hp) && hp.OperationID == tokenOperation {
		return problemStatus(hp), hp.Error(), true
	}
	return 0, "", false
}

func problemStatus(hp *core.HTTPProblem) int {
	if hp.Response == nil {
		return 0
	}
	return hp.Response.StatusCode
}

// tokenError classifies a failure to get an IAM token: a refused API key
// is permanent, an unreachable or overloaded IAM transient.
func tokenError(verb, identity, variable string, status int, what string, err error) error {
	if status == 0 || status == http.StatusTooManyRequests || status >= 500 {
		return fmt.Errorf("%s: get IAM token for the %s: %w", verb, identity, err)
	}
	msg := fmt.Sprintf("%s: get IAM token for the %s: IAM answered HTTP %d %s: check %s",
		verb, identity, status, shorten(what), variable)
	return contract.NewError(contract.ErrTypeAccessDenied, msg, err)
}
