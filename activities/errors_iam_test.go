package activities

import (
	"errors"
	"testing"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestClassifyIAM_ByStatus(t *testing.T) {
	list := iamOp{verb: "list IAM authorization policies of account acct"}
	create := iamOp{verb: "create IAM authorization policy", create: true, target: testTarget}
	tests := []struct {
		name      string
		op        iamOp
		resp      *core.DetailedResponse
		wantType  string
		fragments []string
	}{
		{"list forbidden", list, &core.DetailedResponse{StatusCode: 403}, contract.ErrTypeAccessDenied,
			[]string{"list IAM authorization policies of account acct: IAM answered HTTP 403", "Viewer"}},
		{"create forbidden", create, &core.DetailedResponse{StatusCode: 403}, contract.ErrTypeAccessDenied,
			[]string{"Administrator", "ibmcloud iam authorization-policy-create hyperp-dbaas-postgresql kms Reader"}},
		{"bad request", list, &core.DetailedResponse{StatusCode: 400}, contract.ErrTypeInvalidInput, []string{"BYOK_ACCOUNT_ID"}},
		{"rate limited", list, &core.DetailedResponse{StatusCode: 429}, "", nil},
		{"server error", list, &core.DetailedResponse{StatusCode: 500}, "", nil},
		{"no response", list, nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cause := errors.New("iam said no")
			got := classifyIAM(cause, tt.resp, tt.op)
			if tt.wantType == "" {
				require.Equal(t, "", contract.ErrorType(got))
				require.ErrorIs(t, got, cause)
				return
			}
			requireTyped(t, got, tt.wantType, tt.fragments...)
		})
	}
}

func TestTokenError_RefusedKeyIsPermanent(t *testing.T) {
	cause := errors.New("token")
	requireTyped(t, tokenError("v", "service identity", "BYOK_SERVICE_API_KEY", 400, "BXNIM0415E not found", cause),
		contract.ErrTypeAccessDenied, "v: get IAM token for the service identity: IAM answered HTTP 400", "BYOK_SERVICE_API_KEY")
	for _, status := range []int{0, 429, 503} {
		require.Equal(t, "", contract.ErrorType(tokenError("v", "x", "Y", status, "", cause)), "status %d", status)
	}
}
