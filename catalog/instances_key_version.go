package catalog

import (
	"context"
	"fmt"
)

// SetInstanceKeyVersion records keyVersionID as the instance's current key
// version: the root key version every node was last confirmed under. Callers
// set it when a provision completes and after every completed rotation.
// Setting the same version again changes nothing but updated_at, so retries
// are safe. An empty version is refused, an unknown id wraps ErrNotFound,
// and a shredded instance keeps its last version (ErrInvalidState).
func (c *Catalog) SetInstanceKeyVersion(ctx context.Context, id, keyVersionID string) error {
	if keyVersionID == "" {
		return fmt.Errorf("set instance %s key version: empty key version id", id)
	}
	tag, err := c.pool.Exec(ctx, `UPDATE instances SET key_version_id = $2, updated_at = now()
		WHERE id = $1 AND state <> 'shredded'`, id, keyVersionID)
	if err != nil {
		return fmt.Errorf("set instance %s key version %s: %w", id, keyVersionID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := c.GetInstance(ctx, id); err != nil {
		return fmt.Errorf("set instance %s key version %s: %w", id, keyVersionID, err)
	}
	return fmt.Errorf("set instance %s key version %s: %w: the instance is shredded",
		id, keyVersionID, ErrInvalidState)
}
