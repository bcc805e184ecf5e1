package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ShredCertificate is the proof that an instance was crypto-shredded: a
// JSON document (nodes' final reports, the root key's state, timestamps)
// written once by the CryptoShred workflow and never changed.
type ShredCertificate struct {
	InstanceID  string          `db:"instance_id"`
	Certificate json.RawMessage `db:"certificate"`
	CreatedAt   time.Time       `db:"created_at"`
}

const certificateColumns = "instance_id, certificate, created_at"

// PutShredCertificate stores the certificate of an instance and returns the
// stored one. The first certificate wins: a retry returns it unchanged, so
// the evidence never changes. An unknown instance wraps ErrNotFound.
func (c *Catalog) PutShredCertificate(ctx context.Context, instanceID string, certificate json.RawMessage) (ShredCertificate, error) {
	rows, _ := c.pool.Query(ctx, `INSERT INTO shred_certificates (instance_id, certificate) VALUES ($1, $2)
		ON CONFLICT (instance_id) DO NOTHING RETURNING `+certificateColumns, instanceID, certificate)
	stored, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[ShredCertificate])
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return ShredCertificate{}, fmt.Errorf("store shred certificate: instance %s %w", instanceID, ErrNotFound)
	case errors.Is(err, pgx.ErrNoRows):
		return c.GetShredCertificate(ctx, instanceID)
	case err != nil:
		return ShredCertificate{}, fmt.Errorf("store shred certificate of instance %s: %w", instanceID, err)
	}
	return stored, nil
}

// GetShredCertificate returns the certificate of an instance, or an error
// wrapping ErrNotFound.
func (c *Catalog) GetShredCertificate(ctx context.Context, instanceID string) (ShredCertificate, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+certificateColumns+" FROM shred_certificates WHERE instance_id = $1", instanceID)
	cert, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[ShredCertificate])
	if errors.Is(err, pgx.ErrNoRows) {
		return ShredCertificate{}, fmt.Errorf("get shred certificate of instance %s: %w", instanceID, ErrNotFound)
	}
	if err != nil {
		return ShredCertificate{}, fmt.Errorf("get shred certificate of instance %s: %w", instanceID, err)
	}
	return cert, nil
}
