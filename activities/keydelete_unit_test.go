package activities

import (
	"context"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/byokflow/byokflow/catalog/catalogtest"
	"github.com/byokflow/byokflow/contract"
)

// A deletion retried after its answer was lost: Key Protect refuses the
// retry (404 or 410), the key is Destroyed, and the result says who
// deleted it and when, as the first answer would have.
func TestDeleteRootKey_RetryAfterALostAnswerReportsTheDeletion(t *testing.T) {
	for _, status := range []int{404, 410} {
		t.Run(http404or410(status), func(t *testing.T) {
			cat := catalogtest.Open(t)
			keys := NewMockKeyAdmin(gomock.NewController(t))
			deleted := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			by := "IBMid-alice"
			keys.EXPECT().DeleteKey(gomock.Any(), "k1", kp.ReturnRepresentation).
				Return(nil, kpError(t, status, "KEY_DELETED_ERR"))
			keys.EXPECT().GetKeyMetadata(gomock.Any(), "k1").Return(&kp.Key{ID: "k1", State: int(kp.Destroyed),
				DeletionDate: &deleted, DeletedBy: &by}, nil)
			acts := New(Config{KPInstanceID: "kp"}, Clients{Keys: keys, Catalog: cat})

			res, err := acts.DeleteRootKey(context.Background(), contract.DeleteRootKeyInput{RootKeyID: "k1",
				InstanceID: "orders-db", RequestedBy: "alice"})

			require.NoError(t, err)
			require.Equal(t, contract.DeleteRootKeyResult{AlreadyDeleted: true, DeletionDate: deleted, DeletedBy: by}, res)
		})
	}
}

// A 404 for a key that is not Destroyed is no deletion: KeyNotFound.
func TestDeleteRootKey_NotFoundAndNotDestroyedFails(t *testing.T) {
	keys := NewMockKeyAdmin(gomock.NewController(t))
	notFound := kpError(t, 404, "KEY_NOT_FOUND_ERR")
	keys.EXPECT().DeleteKey(gomock.Any(), "k1", kp.ReturnRepresentation).Return(nil, notFound)
	keys.EXPECT().GetKeyMetadata(gomock.Any(), "k1").Return(nil, notFound)
	acts := New(Config{KPInstanceID: "kp"}, Clients{Keys: keys})

	_, err := acts.DeleteRootKey(context.Background(), contract.DeleteRootKeyInput{RootKeyID: "k1", InstanceID: "orders-db"})

	requireTyped(t, err, contract.ErrTypeKeyNotFound, "k1")
}

func http404or410(status int) string {
	if status == 404 {
		return "404 not found"
	}
	return "410 gone"
}
