package node

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/byokflow/byokflow/contract"
)

// backupExt ends the name of a backup file in the backup store; a backup
// being written ends in backupExt + tmpExt until it is complete and durable.
const (
	backupExt = ".byok"
	tmpExt    = ".tmp"
)

var (
	// backupIDPattern is what a backup id must look like: it names a file.
	backupIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	// databasePattern is what an instance database name must look like.
	databasePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
)

// sessionParams fix the text forms of dates, intervals and floats on both
// ends of a backup, whatever the server's defaults, so that COPY's text
// output reads back as the same values; row_security=off makes a table
// that row-level security would filter fail the copy instead of losing rows.
var sessionParams = map[string]string{
	"DateStyle": "ISO, MDY", "IntervalStyle": "postgres", "extra_float_digits": "3",
	"row_security": "off", "application_name": "byokflow-node",
}

// dataConfig is where the data path works: the backup store, the
// PostgreSQL server of the instance databases, and pg_dump.
type dataConfig struct {
	backupDir   string
	databaseURL string
	pgDump      func() (string, error) // findPGDump, run once
}

func newDataConfig(cfg Config) dataConfig {
	return dataConfig{backupDir: cfg.BackupDir, databaseURL: cfg.DatabaseURL,
		pgDump: sync.OnceValues(func() (string, error) { return findPGDump(cfg.PGDump) })}
}

// check fails, permanently, when the agent was started without a backup
// store or database server. op names the activity.
func (c dataConfig) check(op string, host string) error {
	if c.backupDir != "" && c.databaseURL != "" {
		return nil
	}
	return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("%s: the node agent on host %s "+
		"has no backup store or database server: start it with BYOK_BACKUP_DIR and BYOK_DATABASE_URL set",
		op, host), nil)
}

// urlFor returns the server's URL with its database replaced by name.
func (c dataConfig) urlFor(name string) (*url.URL, error) {
	u, err := parseDatabaseURL(c.databaseURL)
	if err != nil {
		return nil, err
	}
	u.Path, u.RawPath = "/"+name, ""
	return u, nil
}

// checkDatabaseURL checks Config.DatabaseURL, which may be empty.
func checkDatabaseURL(s string) error {
	if s == "" {
		return nil
	}
	_, err := parseDatabaseURL(s)
	return err
}

// parseDatabaseURL parses a postgres:// or postgresql:// URL.
func parseDatabaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("BYOK_DATABASE_URL is not a postgres:// URL: set it as postgres://user@host:port/db")
	}
	return u, nil
}

// connect opens a connection to database name with sessionParams.
func (c dataConfig) connect(ctx context.Context, name string) (*pgx.Conn, error) {
	u, err := c.urlFor(name)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("parse BYOK_DATABASE_URL: %w", err)
	}
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// backupPath is the backup store's file of location, which must stay
// inside the store.
func (c dataConfig) backupPath(location string) (string, error) {
	if !filepath.IsLocal(location) {
		return "", fmt.Errorf("backup location %q is not a path inside the backup store", location)
	}
	return filepath.Join(c.backupDir, location), nil
}

// checkBackupIDs checks the backup id and database name of an input.
func checkBackupIDs(backupID, database string) error {
	if !backupIDPattern.MatchString(backupID) {
		return fmt.Errorf("backup id %q: use 1-128 letters, digits, dots, dashes or underscores", backupID)
	}
	if !databasePattern.MatchString(database) {
		return fmt.Errorf("database name %q of backup %s: use 1-63 letters, digits or underscores", database, backupID)
	}
	return nil
}

// databaseError classifies a failure to reach an instance database: a
// database that does not exist is permanent, anything else is retried.
func databaseError(what, database string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" {
		return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("%s: database %s does not exist "+
			"on the server of BYOK_DATABASE_URL: check the instance's database in the catalog", what, database), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// idLocks serializes work per id (the attempts of one backup, say), so a
// retried activity whose first attempt still runs cannot interleave.
type idLocks struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

func newIDLocks() *idLocks { return &idLocks{locks: map[string]chan struct{}{}} }

// lock takes id's lock, or gives up when ctx ends.
func (l *idLocks) lock(ctx context.Context, id string) (unlock func(), err error) {
	l.mu.Lock()
	ch, ok := l.locks[id]
	if !ok {
		ch = make(chan struct{}, 1)
		l.locks[id] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
