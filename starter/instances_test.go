package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

func TestInstanceNotFound_TypesOnlyAnUnknownInstance(t *testing.T) {
	unknown := fmt.Errorf("get instance orders: %w", catalog.ErrNotFound)
	err := instanceNotFound("orders", unknown)
	require.Equal(t, contract.ErrTypeInstanceNotFound, contract.ErrorType(err))
	require.ErrorIs(t, err, catalog.ErrNotFound)
	printed := workflowError(err).Error()
	require.Contains(t, printed, `"orders"`)
	require.Contains(t, printed, "check the name")
	require.Contains(t, printed, "[InstanceNotFound]")

	other := errors.New("connect to the catalog: refused")
	require.Equal(t, other, instanceNotFound("orders", other))
	require.NoError(t, instanceNotFound("orders", nil))
}
