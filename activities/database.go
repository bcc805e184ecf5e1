package activities

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/byokflow/byokflow/contract"
)

// PostgreSQL error codes PGAdmin reads.
const (
	codeDuplicateDatabase     = "42P04"
	codeUniqueViolation       = "23505" // two CREATE DATABASE racing on pg_database
	codeInsufficientPrivilege = "42501"
)

// PGAdmin creates and drops databases on a PostgreSQL server through a
// pool whose role may create databases.
type PGAdmin struct {
	pool *pgxpool.Pool
}

// NewPGAdmin returns a PGAdmin over pool; the caller closes the pool.
func NewPGAdmin(pool *pgxpool.Pool) *PGAdmin { return &PGAdmin{pool: pool} }

// CreateDatabase creates the database; one that exists is success.
func (p *PGAdmin) CreateDatabase(ctx context.Context, name string) error {
	_, err := p.pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if code := pgCode(err); code == codeDuplicateDatabase || code == codeUniqueViolation {
		return nil
	}
	return err
}

// DropDatabase drops the database, disconnecting its sessions; one that
// does not exist is success.
func (p *PGAdmin) DropDatabase(ctx context.Context, name string) error {
	_, err := p.pool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// databaseNameRE is what CreateInstanceRecord produces: byok_ and a
// lower-case identifier. Anything else is refused rather than created.
var databaseNameRE = regexp.MustCompile(`^byok_[a-z0-9_]{1,58}$`)

// CreateInstanceDatabase creates the instance's database on the database
// server. An existing database is success.
func (a *Activities) CreateInstanceDatabase(ctx context.Context, in contract.CreateInstanceDatabaseInput) error {
	verb := fmt.Sprintf("create database %s of instance %q", in.DatabaseName, in.InstanceID)
	if err := checkDatabaseName(in.DatabaseName, verb); err != nil {
		return err
	}
	return dbError(a.admin.CreateDatabase(ctx, in.DatabaseName), verb)
}

// DropInstanceDatabase compensates CreateInstanceDatabase: it drops the
// database, closing its sessions. A missing database is success.
func (a *Activities) DropInstanceDatabase(ctx context.Context, in contract.DropInstanceDatabaseInput) error {
	verb := fmt.Sprintf("drop database %s of instance %q", in.DatabaseName, in.InstanceID)
	if err := checkDatabaseName(in.DatabaseName, verb); err != nil {
		return err
	}
	return dbError(a.admin.DropDatabase(ctx, in.DatabaseName), verb)
}

// dbError classifies a database server error: a role without the right to
// create or drop databases is permanent, anything else transient.
func dbError(err error, verb string) error {
	if err == nil {
		return nil
	}
	if pgCode(err) == codeInsufficientPrivilege {
		return contract.NewError(contract.ErrTypeAccessDenied, fmt.Sprintf("%s: %v: grant the role of "+
			"BYOK_DATABASE_URL the CREATEDB privilege (ALTER ROLE name CREATEDB)", verb, err), nil)
	}
	return fmt.Errorf("%s: %w", verb, err)
}

// checkDatabaseName refuses names byokflow does not make, so a bad input
// can never drop another database (the catalog's, say).
func checkDatabaseName(name, verb string) error {
	if databaseNameRE.MatchString(name) {
		return nil
	}
	return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf(
		"%s: %q is not a byokflow database name (byok_ and lower-case letters, digits or underscores)", verb, name), nil)
}
