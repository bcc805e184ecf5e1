package activities

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// A record the catalog refuses for its id is InvalidInput, never retried
// (a retry cannot help); a database failure stays retryable.
func TestCreateError_InvalidIDIsNotRetried(t *testing.T) {
	verb := `create instance record "../x"`
	invalid := fmt.Errorf("create instance: %w", catalog.ValidateInstanceID("../x"))
	err := createError(verb, invalid)
	require.Equal(t, contract.ErrTypeInvalidInput, contract.ErrorType(err))
	require.ErrorContains(t, err, `"../x"`)
	require.ErrorContains(t, err, "choose another name")

	down := errors.New("connect to the catalog: connection refused")
	err = createError(verb, down)
	require.Empty(t, contract.ErrorType(err), "retryable")
	require.ErrorIs(t, err, down)
}
