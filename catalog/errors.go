package catalog

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrNotFound is returned (wrapped, naming the id) when a row the caller
	// asked for does not exist.
	ErrNotFound = errors.New("not found")

	// ErrInstanceExists is returned by CreateInstance when the id is taken
	// by an instance that another workflow created.
	ErrInstanceExists = errors.New("instance id already taken")

	// ErrMigrationChanged is returned by Open when a migration already
	// applied to the database differs from the one embedded in this binary.
	// Applied migrations are never edited: add a new migration instead.
	ErrMigrationChanged = errors.New("applied migration changed")

	// ErrInvalidID is returned (wrapped, naming the id) when an instance
	// id breaks the catalog's rule (ValidateInstanceID): the input is
	// wrong, and trying again cannot help.
	ErrInvalidID = errors.New("invalid instance id")

	// ErrInvalidState is returned when a row's state forbids the change:
	// leaving the shredded state, deleting an instance that became active,
	// rewrapping a backup that is not kept.
	ErrInvalidState = errors.New("invalid state")
)

// PostgreSQL error codes the catalog translates.
const (
	codeForeignKeyViolation = "23503"
)

// pgCode returns the SQLSTATE of err, or "" if err is not from PostgreSQL.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
