package pgserver

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/byokflow/byokflow/internal/scram"
	"github.com/jackc/pgx/v5"
)

// Connect opens a connection to database as the superuser role postgres,
// over the unix socket with peer authentication (no password exists for
// it). The caller closes it.
func (s *Server) Connect(ctx context.Context, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("host=" + s.cfg.SocketDir + " port=" + strconv.Itoa(s.cfg.Port) +
		" user=postgres sslmode=disable application_name=byokflow-node")
	if err != nil {
		return nil, fmt.Errorf("connect to %s on %s: %w", database, s.cfg.DataDir, err)
	}
	cfg.Database = database
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s on %s: %w: is the server started?", database, s.cfg.DataDir, err)
	}
	return conn, nil
}

// Bootstrap holds what a primary's Bootstrap creates. Verifiers are
// SCRAM-SHA-256 verifiers (internal/scram.Verifier), never passwords.
type Bootstrap struct {
	// AdminRole is the instance's administrator: LOGIN CREATEDB CREATEROLE,
	// member of pg_checkpoint and pg_monitor, not a superuser; it owns
	// Database.
	AdminRole, AdminVerifier string
	// Database is the instance's database, owned by AdminRole.
	Database string
	// ReplicationRole is the role the standbys connect as: LOGIN
	// REPLICATION, allowed by pg_hba.conf for replication over 127.0.0.1.
	// "" (with an empty verifier) makes no replication role.
	ReplicationRole, ReplicationVerifier string
}

// namePattern is what this package accepts as a role or database name:
// plain lower-case SQL identifiers, which need no quoting anywhere, in SQL
// or in pg_hba.conf.
var namePattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// check validates b before any SQL runs.
func (b Bootstrap) check() error {
	names := []string{b.AdminRole, b.Database}
	verifiers := []string{b.AdminVerifier}
	if b.ReplicationRole != "" || b.ReplicationVerifier != "" {
		names = append(names, b.ReplicationRole)
		verifiers = append(verifiers, b.ReplicationVerifier)
	}
	for _, n := range names {
		if !namePattern.MatchString(n) || n == "postgres" {
			return fmt.Errorf("name %q: use 1 to 63 lower-case letters, digits and _, not postgres", n)
		}
	}
	for _, v := range verifiers {
		if err := scram.Check(v); err != nil {
			return fmt.Errorf("%w: pass scram.Verifier(password), never a password", err)
		}
	}
	return nil
}

// Bootstrap makes the primary's roles and database, idempotently: roles
// are created or altered (so a new verifier replaces the old password),
// the database is created or given to AdminRole. With a ReplicationRole it
// then rewrites pg_hba.conf to let that role replicate, and reloads.
func (s *Server) Bootstrap(ctx context.Context, b Bootstrap) error {
	what := "bootstrap roles and database on " + s.cfg.DataDir
	if err := b.check(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	conn, err := s.Connect(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := s.bootstrap(ctx, conn, b); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	s.log.Info("postgresql roles and database bootstrapped", "admin", b.AdminRole, "database", b.Database,
		"replication", b.ReplicationRole)
	return nil
}

// bootstrap runs Bootstrap's statements on conn.
func (s *Server) bootstrap(ctx context.Context, conn *pgx.Conn, b Bootstrap) error {
	var standby bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby); err != nil {
		return err
	}
	if standby {
		return errors.New("server is a standby: bootstrap the primary; standbys copy its roles")
	}
	if err := upsertRole(ctx, conn, b.AdminRole, "LOGIN CREATEDB CREATEROLE NOSUPERUSER", b.AdminVerifier); err != nil {
		return err
	}
	// The administrator may CHECKPOINT and read the server's statistics,
	// as on a managed service, without being a superuser.
	if _, err := conn.Exec(ctx, "GRANT pg_checkpoint, pg_monitor TO "+b.AdminRole); err != nil {
		return fmt.Errorf("grant pg_checkpoint to %s: %w", b.AdminRole, err)
	}
	if b.ReplicationRole != "" {
		if err := upsertRole(ctx, conn, b.ReplicationRole, "LOGIN REPLICATION NOSUPERUSER", b.ReplicationVerifier); err != nil {
			return err
		}
	}
	if err := upsertDatabase(ctx, conn, b.Database, b.AdminRole); err != nil {
		return err
	}
	if err := s.writeFile("pg_hba.conf", hba(b.ReplicationRole)); err != nil {
		return err
	}
	var reloaded bool
	if err := conn.QueryRow(ctx, "SELECT pg_reload_conf()").Scan(&reloaded); err != nil {
		return fmt.Errorf("reload configuration: %w", err)
	}
	return nil
}

// upsertRole creates role, or alters it, with attrs and the verifier as its
// password. Utility statements take no parameters; the name and verifier
// were validated (check), so quoting them is safe.
func upsertRole(ctx context.Context, conn *pgx.Conn, role, attrs, verifier string) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists); err != nil {
		return fmt.Errorf("look up role %s: %w", role, err)
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	sql := fmt.Sprintf("%s ROLE %s WITH %s PASSWORD '%s'", verb, pgx.Identifier{role}.Sanitize(), attrs, verifier)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s role %s: %w", strings.ToLower(verb), role, err) // pgx errors do not quote the statement
	}
	return nil
}

// upsertDatabase creates database owned by owner, or gives it to owner.
func upsertDatabase(ctx context.Context, conn *pgx.Conn, database, owner string) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", database, err)
	}
	db, own := pgx.Identifier{database}.Sanitize(), pgx.Identifier{owner}.Sanitize()
	sql := "CREATE DATABASE " + db + " OWNER " + own
	if exists {
		sql = "ALTER DATABASE " + db + " OWNER TO " + own
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("make database %s: %w", database, err)
	}
	return nil
}
