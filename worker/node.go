package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/encryption/keyprotect"
	"github.com/byokflow/byokflow/internal/ibmenv"
	"github.com/byokflow/byokflow/node"
)

// runNode serves the node activities of host until ctx is done. On start the
// agent unwraps every key slot it holds and reports each node's status.
func runNode(ctx context.Context, logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("worker node", flag.ContinueOnError)
	host := fs.String("host", "", "name of this host; the agent serves its task queue (required)")
	dataDir := fs.String("data-dir", "", "directory of the agent key and the key slots (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *host == "" || *dataDir == "" {
		return errors.New("start node agent: --host and --data-dir are required")
	}
	agent, cat, err := newAgent(*host, *dataDir, logger)
	if err != nil {
		return err
	}
	defer cat.Close()
	defer agent.Close()
	if _, err := agent.Start(ctx); err != nil {
		return err
	}
	go agent.KeepRegistered(ctx, time.Minute)
	c, err := dialTemporal(ctx, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	w := worker.New(c, agent.TaskQueue(), worker.Options{})
	agent.Register(w)
	return serve(ctx, logger, w, agent.TaskQueue())
}

// newAgent builds the agent over the service identity's Key Protect client
// and the catalog.
func newAgent(host, dataDir string, logger *slog.Logger) (*node.Agent, *catalog.Catalog, error) {
	env := ibmenv.Read(nil)
	kpc, err := env.ServiceKP()
	if err != nil {
		return nil, nil, err
	}
	url := os.Getenv("BYOK_DATABASE_URL")
	if url == "" {
		return nil, nil, errors.New("start node agent: BYOK_DATABASE_URL is not set: run 'make stack' and '. .run/env'")
	}
	cat, err := catalog.Open(context.Background(), url)
	if err != nil {
		return nil, nil, fmt.Errorf("start node agent: %w", err)
	}
	agent, err := node.New(node.Config{
		Host: host, DataDir: dataDir, Wrapper: keyprotect.New(kpc), WrapperFor: wrapperFor(env), Catalog: cat, Logger: logger,
		BackupDir: os.Getenv("BYOK_BACKUP_DIR"), DatabaseURL: url,
	})
	if err != nil {
		cat.Close()
		return nil, nil, err
	}
	return agent, cat, nil
}

// wrapperFor builds the service identity's KeyWrapper of another Key
// Protect instance; the agent caches it per instance.
func wrapperFor(env ibmenv.Env) func(string) (encryption.KeyWrapper, error) {
	return func(kpInstanceID string) (encryption.KeyWrapper, error) {
		kpc, err := env.ForKPInstance(kpInstanceID).ServiceKP()
		if err != nil {
			return nil, err
		}
		return keyprotect.New(kpc), nil
	}
}
