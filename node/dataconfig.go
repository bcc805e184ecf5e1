package node

import (
	"context"
	"errors"
	"fmt"
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

// dataConfig is where the data path works: the backup store, pg_dump, and
// (set per activity by dataFor) the node's own PostgreSQL server, reached
// over its unix socket as the superuser.
type dataConfig struct {
	backupDir string
	pgDump    func() (string, error) // findPGDump, run once
	socketDir string
	port      int
}

func newDataConfig(cfg Config) dataConfig {
	return dataConfig{backupDir: cfg.BackupDir,
		pgDump: sync.OnceValues(func() (string, error) { return findPGDump(cfg.PGDump) })}
}

// dataFor returns the data path of node n, whose server must serve: a
// node that is suspended, or whose server is down, fails NodeNotServing.
// op names the activity.
func (a *Agent) dataFor(ctx context.Context, op string, n nodeRef) (dataConfig, error) {
	c := a.data
	if c.backupDir == "" {
		return c, contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("%s: the node agent on host %s "+
			"has no backup store: start it with BYOK_BACKUP_DIR set", op, a.host), nil)
	}
	if err := checkIDs(n.InstanceID, n.NodeID); err != nil {
		return c, invalidInput(op, err)
	}
	m, err := readMeta(a.dirsOf(n))
	if err != nil {
		return c, err
	}
	_, live := a.keys.get(n)
	running := false
	if m.Port != 0 && live && m.Suspended == "" {
		if srv, err := a.serverOf(n, m); err == nil {
			running, _ = srv.Running()
		}
	}
	if !running {
		return c, contract.NewError(contract.ErrTypeNodeNotServing, fmt.Sprintf("%s: node %s of instance %s "+
			"does not serve on host %s (%s): run `starter status` to see why; `starter resume` brings a "+
			"suspended instance back", op, n.NodeID, n.InstanceID, a.host, notServingWhy(m, live)), nil)
	}
	c.socketDir, c.port = a.dirsOf(n).socket, m.Port
	return c, nil
}

// notServingWhy names the reason a node does not serve.
func notServingWhy(m nodeMeta, live bool) string {
	switch {
	case m.Suspended != "":
		return "suspended: " + m.Suspended
	case m.Port == 0:
		return "it has no server yet"
	case !live:
		return "its DEK is not in memory"
	}
	return "its server is not running"
}

// connect opens a connection to database name on the node's server with
// sessionParams.
func (c dataConfig) connect(ctx context.Context, name string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Database = c.socketDir, uint16(c.port), "postgres", name
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
			"on the node's server: check the instance's database in the catalog", what, database), err)
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
