package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/node/fscrypt"
	"github.com/byokflow/byokflow/node/pgserver"
)

// hostPattern is what a host name must look like: it becomes part of a task
// queue name and of the catalog's host row.
var hostPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

// Config is what New needs to build an agent.
type Config struct {
	// Host names the machine; the agent serves contract.NodeTaskQueue(Host).
	// 1-31 lower-case letters, digits and dashes, starting with a letter or
	// digit.
	Host string
	// DataDir holds agent.key and the key slots; created (0700) if missing.
	DataDir string
	// Wrapper wraps and unwraps DEKs as the service identity, in the
	// default Key Protect instance (inputs and slots that name none).
	Wrapper encryption.KeyWrapper
	// WrapperFor builds the service identity's KeyWrapper of another Key
	// Protect instance; the agent calls it once per instance. Nil: every
	// instance uses Wrapper.
	WrapperFor func(kpInstanceID string) (encryption.KeyWrapper, error)
	// Logger receives the agent's log lines; nil discards them.
	Logger *slog.Logger
	// Now is the agent's clock for reports and slots; nil means time.Now.
	Now func() time.Time
	// StorageDir is the root of the nodes' data: a directory on a
	// filesystem with fscrypt support (ext4 made with -O encrypt). New
	// refuses storage it cannot encrypt.
	StorageDir string
	// PGBin is the directory of the PostgreSQL server binaries; empty
	// finds them (pg_config --bindir, /usr/lib/postgresql/*/bin, PATH).
	PGBin string
	// OSUser is the OS user the nodes' servers run as when the agent runs
	// as root; empty means "postgres".
	OSUser string
	// BackupDir is the backup store (BYOK_BACKUP_DIR), where BackupDatabase
	// writes <backup id>.byok and RestoreDatabase reads it; created (0700)
	// on first backup. Empty: the agent refuses backups and restores.
	BackupDir string
	// PGDump is the pg_dump program that dumps an instance's schema; empty
	// means the one next to `pg_config --bindir`, else the newest under
	// /usr/lib/postgresql/*/bin, else pg_dump on PATH.
	PGDump string
}

// Agent is a node agent: it holds the DEKs of the database nodes placed on
// its host, in memory and in key slots on disk, and serves the node
// activities. Its methods are safe for concurrent use; work on one node is
// serialized.
type Agent struct {
	host     string
	storage  string // Config.StorageDir
	pgBin    string
	osUser   string
	slots    *Slots
	wrappers *wrappers
	log      *slog.Logger
	now      func() time.Time
	keys     *keyring
	data     dataConfig // backup store and pg_dump of the data path
	backups  *idLocks   // serializes the attempts of one backup
}

// New checks cfg, checks that the storage directory can be encrypted with
// fscrypt (really trying: a probe key and policy), and opens the key-slot
// store of cfg.DataDir (creating the agent key on first start). It does
// not contact Key Protect; Start does.
func New(cfg Config) (*Agent, error) {
	if err := ValidateHost(cfg.Host); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" || cfg.StorageDir == "" || cfg.Wrapper == nil {
		return nil, errors.New("start node agent: a data directory, a storage directory and a key wrapper are required")
	}
	storage, err := filepath.Abs(cfg.StorageDir)
	if err != nil {
		return nil, fmt.Errorf("start node agent on host %s: %w", cfg.Host, err)
	}
	if err := fscrypt.CheckSupport(storage); err != nil {
		return nil, fmt.Errorf("start node agent on host %s: storage %s cannot hold encrypted nodes: %w",
			cfg.Host, storage, err)
	}
	slots, err := OpenSlots(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("start node agent on host %s: %w", cfg.Host, err)
	}
	a := &Agent{host: cfg.Host, storage: storage, pgBin: cfg.PGBin, osUser: cfg.OSUser, slots: slots,
		wrappers: newWrappers(cfg.Wrapper, cfg.WrapperFor), log: cfg.Logger, now: cfg.Now,
		keys: newKeyring(), backups: newIDLocks(), data: newDataConfig(cfg)}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.pgBin == "" {
		// Found once, not at every server built (Watch builds them every
		// few seconds); not found, each server step reports it as before.
		a.pgBin, _ = pgserver.FindBin()
	}
	a.log = a.log.With("host", cfg.Host)
	return a, nil
}

// ValidateHost checks a host name: 1-31 lower-case letters, digits and
// dashes, starting with a letter or digit.
func ValidateHost(host string) error {
	if hostPattern.MatchString(host) {
		return nil
	}
	return fmt.Errorf("validate host name %q: use 1-31 lower-case letters, digits or dashes, "+
		"starting with a letter or digit, for example \"host-a\"", host)
}

// Host returns the agent's host name.
func (a *Agent) Host() string { return a.host }

// TaskQueue returns the task queue the agent's worker must poll.
func (a *Agent) TaskQueue() string { return contract.NodeTaskQueue(a.host) }

// Register registers the node activities on w under their contract names.
func (a *Agent) Register(w worker.ActivityRegistry) {
	w.RegisterActivityWithOptions(a.InstallKey, activity.RegisterOptions{Name: contract.ActivityInstallKey})
	w.RegisterActivityWithOptions(a.RewrapKey, activity.RegisterOptions{Name: contract.ActivityRewrapKey})
	w.RegisterActivityWithOptions(a.DropKeySlot, activity.RegisterOptions{Name: contract.ActivityDropKeySlot})
	w.RegisterActivityWithOptions(a.ReportStatus, activity.RegisterOptions{Name: contract.ActivityReportStatus})
	w.RegisterActivityWithOptions(a.BackupDatabase, activity.RegisterOptions{Name: contract.ActivityBackupDatabase})
	w.RegisterActivityWithOptions(a.RestoreDatabase, activity.RegisterOptions{Name: contract.ActivityRestoreDatabase})
	w.RegisterActivityWithOptions(a.RewrapBackupKey, activity.RegisterOptions{Name: contract.ActivityRewrapBackupKey})
	w.RegisterActivityWithOptions(a.ShredKeySlot, activity.RegisterOptions{Name: contract.ActivityShredKeySlot})
	w.RegisterActivityWithOptions(a.StartPrimary, activity.RegisterOptions{Name: contract.ActivityStartPrimary})
	w.RegisterActivityWithOptions(a.StartStandby, activity.RegisterOptions{Name: contract.ActivityStartStandby})
	w.RegisterActivityWithOptions(a.SuspendNode, activity.RegisterOptions{Name: contract.ActivitySuspendNode})
	w.RegisterActivityWithOptions(a.ResumeNode, activity.RegisterOptions{Name: contract.ActivityResumeNode})
	w.RegisterActivityWithOptions(a.DeleteBackupFile, activity.RegisterOptions{Name: contract.ActivityDeleteBackupFile})
}

// Close zeroizes every DEK in memory and the agent key. Call it after the
// worker stopped; the agent must not be used afterwards. The nodes'
// servers and fscrypt keys stay: a restarted agent adopts them, and
// Shutdown takes them down.
func (a *Agent) Close() {
	a.keys.destroyAll()
	a.slots.Close()
}

// heartbeat records progress when ctx is an activity's (Start runs outside
// one). step names a step; it never carries key material.
func heartbeat(ctx context.Context, step string) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, step)
	}
}
