package main

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/keyprotect-go-client/iam"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestTypedKPError_TypesKeyProtectAndIAMAnswers(t *testing.T) {
	iamErr := func(status int) error {
		return fmt.Errorf("create root key \"r\": %w", iam.Error{ErrorCode: "BXNIM0415E",
			ErrorMessage: "Provided API key could not be found", HTTPResponse: &http.Response{StatusCode: status}})
	}
	kpErr := func(status int) error {
		return fmt.Errorf("show root key k1: %w", &kp.Error{StatusCode: status, Message: "refused"})
	}
	typed := contract.NewError(contract.ErrTypeKeyInUse, "shred instance a: key in use", nil)
	plain := errors.New("dial Key Protect: connection refused")
	tests := []struct {
		name string
		err  error
		want string // the contract type, "" for unchanged
		todo string
	}{
		{"unknown api key", iamErr(http.StatusBadRequest), contract.ErrTypeAccessDenied, "IBMCLOUD_API_KEY"},
		{"iam down", iamErr(http.StatusServiceUnavailable), "", ""},
		{"expired token", kpErr(http.StatusUnauthorized), contract.ErrTypeAccessDenied, "run the command again"},
		{"no role", kpErr(http.StatusForbidden), contract.ErrTypeAccessDenied, "Manager"},
		{"unknown key", kpErr(http.StatusNotFound), contract.ErrTypeKeyNotFound, "--kp-instance"},
		{"destroyed key", kpErr(http.StatusGone), contract.ErrTypeKeyDestroyed, "restore it"},
		{"bad request", kpErr(http.StatusBadRequest), contract.ErrTypeInvalidInput, "correct the flags"},
		{"kp down", kpErr(http.StatusInternalServerError), "", ""},
		{"typed already", typed, contract.ErrTypeKeyInUse, ""},
		{"not an answer", plain, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := typedKPError(tc.err)
			require.Equal(t, tc.want, contract.ErrorType(got))
			if tc.want == "" || tc.todo == "" {
				require.Equal(t, tc.err, got, "returned as it is")
				return
			}
			require.ErrorIs(t, got, tc.err)
			printed := workflowError(got).Error()
			require.Contains(t, printed, tc.err.Error(), "the call and its ids stay")
			require.Contains(t, printed, tc.todo)
			require.Contains(t, printed, "["+tc.want+"]")
		})
	}
}
