package catalog

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateInstanceID_RefusalWrapsErrInvalidID(t *testing.T) {
	for _, id := range []string{"", "../x", "Orders", "x;drop table instances", "orders\x00db", "ördérs"} {
		t.Run(id, func(t *testing.T) {
			err := ValidateInstanceID(id)
			require.ErrorIs(t, err, ErrInvalidID)
			require.ErrorContains(t, err, "use 3 to 40 lower-case letters")
		})
	}
	require.NoError(t, ValidateInstanceID("orders-db"))
}
