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
	if !live && m.Suspended == "" && m.Port != 0 {
		if live, err = a.comeBack(ctx, op, n); err != nil {
			return c, err
		}
	}
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

// comeBack brings back node n, whose DEK is not in memory (its agent has
// just restarted and Recover has not got to it, or Key Protect was down),
// the way ReportStatus does, and reports whether its DEK is now live. A
// node Key Protect cannot vouch for yet fails retryably, so that a data
// activity that arrives right after an agent's restart waits for the node
// instead of failing for good; a suspended or destroyed key fails as
// NodeNotServing below.
func (a *Agent) comeBack(ctx context.Context, op string, n nodeRef) (bool, error) {
	rep, err := a.restore(ctx, n)
	if err != nil {
		return false, err
	}
	if _, live := a.keys.get(n); live {
		return true, nil
	}
	if needsRetry(rep.State) {
		return false, contract.NewRetryableError(contract.RetryTypeNodeComingBack, fmt.Sprintf("%s: node %s "+
			"of instance %s on host %s is not back yet (%s: %s): will retry", op, n.NodeID, n.InstanceID,
			a.host, rep.State, rep.Detail), nil)
	}
	return false, nil
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

// idLocks serializes the attempts of one piece of work, by id (the
// attempts of one backup, say). Temporal runs one attempt at a time, so an
// attempt that still holds the lock when the next arrives is one Temporal
// has given up on (it stopped heartbeating, or its worker lost the
// server): the newcomer cancels it and takes over as soon as it lets go,
// instead of waiting behind it until its StartToClose.
type idLocks struct {
	mu    sync.Mutex
	locks map[string]*idLock
}

type idLock struct {
	ch     chan struct{}      // holds a token while the lock is held
	cancel context.CancelFunc // cancels the holder's context
}

func newIDLocks() *idLocks { return &idLocks{locks: map[string]*idLock{}} }

// lock takes id's lock, canceling the context of the attempt that holds
// it, or gives up when ctx ends. The work must run under the returned
// context, which a later attempt cancels in turn; unlock lets go.
func (l *idLocks) lock(ctx context.Context, id string) (context.Context, func(), error) {
	l.mu.Lock()
	lk, ok := l.locks[id]
	if !ok {
		lk = &idLock{ch: make(chan struct{}, 1)}
		l.locks[id] = lk
	}
	if lk.cancel != nil {
		lk.cancel()
	}
	l.mu.Unlock()
	select {
	case lk.ch <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	wctx, cancel := context.WithCancel(ctx)
	l.mu.Lock()
	lk.cancel = cancel
	l.mu.Unlock()
	return wctx, func() {
		cancel()
		<-lk.ch
	}, nil
}
