package catalog

import (
	"context"
	"fmt"
	"time"
)

// unsetEpoch is t, or the zero time for the epoch that instanceColumns
// selects for an unset timestamp.
func unsetEpoch(t time.Time) time.Time {
	if t.Equal(time.Unix(0, 0)) {
		return time.Time{}
	}
	return t
}

// SetSuspendedBy records who suspended the instance: "operator",
// "key_disabled" or "key_destroyed"; empty clears it (resumed). A key's
// cause never replaces an operator's: the reconciliation must not resume
// what an operator suspended. An unknown id wraps ErrNotFound.
func (c *Catalog) SetSuspendedBy(ctx context.Context, id, cause string) error {
	tag, err := c.pool.Exec(ctx, `UPDATE instances SET suspended_by = CASE
			WHEN $2 IN ('key_disabled', 'key_destroyed') AND suspended_by = 'operator' THEN suspended_by
			ELSE $2 END, updated_at = now()
		WHERE id = $1`, id, cause)
	if err != nil {
		return fmt.Errorf("record who suspended instance %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("record who suspended instance %s: %w", id, ErrNotFound)
	}
	return nil
}

// MarkKPUnreachable sets the instance's unreachable-since mark to at unless
// it is set already, and the degraded mark too when degraded. It reports
// whether the unreachable mark was new.
func (c *Catalog) MarkKPUnreachable(ctx context.Context, id string, at time.Time, degraded bool) (bool, error) {
	var wasSet bool
	err := c.pool.QueryRow(ctx, `WITH old AS (SELECT kp_unreachable_since IS NOT NULL AS set FROM instances WHERE id = $1)
		UPDATE instances SET kp_unreachable_since = coalesce(kp_unreachable_since, $2),
			kp_degraded_at = CASE WHEN $3 THEN coalesce(kp_degraded_at, $2) ELSE kp_degraded_at END
		WHERE id = $1 RETURNING (SELECT set FROM old)`, id, at, degraded).Scan(&wasSet)
	if err != nil {
		return false, fmt.Errorf("mark Key Protect unreachable for instance %s: %w", id, err)
	}
	return !wasSet, nil
}

// ClearKPUnreachable clears both marks: Key Protect answered again.
func (c *Catalog) ClearKPUnreachable(ctx context.Context, id string) error {
	_, err := c.pool.Exec(ctx, `UPDATE instances SET kp_unreachable_since = NULL, kp_degraded_at = NULL
		WHERE id = $1 AND kp_unreachable_since IS NOT NULL`, id)
	if err != nil {
		return fmt.Errorf("clear Key Protect unreachable mark of instance %s: %w", id, err)
	}
	return nil
}

// LiveInstances returns the instances the reconciliation watches: active
// (or rotating) and key_destroyed, ordered by id.
func (c *Catalog) LiveInstances(ctx context.Context) ([]Instance, error) {
	return c.queryInstances(ctx, "list live instances", "SELECT "+instanceColumns+
		" FROM instances WHERE state IN ('active', 'rotating', 'key_destroyed') ORDER BY id")
}
