package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"

	"github.com/byokflow/byokflow/internal/codec"
	"github.com/byokflow/byokflow/internal/codecserver"
	"github.com/byokflow/byokflow/internal/ibmenv"
	"github.com/byokflow/byokflow/internal/temporalenv"
)

// dialTemporal connects to Temporal with the payload codec of the
// environment on every payload and failure. BYOK_CODEC=off connects
// without it, and says so.
func dialTemporal(ctx context.Context, logger *slog.Logger) (client.Client, error) {
	return temporalenv.Dial(log.NewStructuredLogger(logger), func() (converter.PayloadCodec, error) {
		c, err := codec.FromEnv(ctx, nil)
		if errors.Is(err, codec.ErrOff) {
			logger.Warn("payload codec off: workflow histories are stored in clear (BYOK_CODEC=off, development only)")
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		logger.Info("payload codec on", "keyring", os.Getenv(codec.EnvKeyring), "keys", len(c.KeyIDs()))
		return c, nil
	})
}

// dialTemporalLazy is dialTemporal with a payload codec that opens in the
// background (codec.Lazy), so that a node agent can poll while Key Protect
// is down; nil when BYOK_CODEC=off.
func dialTemporalLazy(ctx context.Context, logger *slog.Logger) (client.Client, *codec.Lazy, error) {
	if os.Getenv(codec.EnvSwitch) == "off" {
		c, err := dialTemporal(ctx, logger)
		return c, nil, err
	}
	lazy := codec.NewLazy(func(ctx context.Context) (*codec.Codec, error) { return codec.FromEnv(ctx, nil) })
	c, err := temporalenv.Dial(log.NewStructuredLogger(logger), func() (converter.PayloadCodec, error) {
		return lazy, nil
	})
	if err != nil {
		return nil, nil, err
	}
	go lazy.Open(ctx, logger)
	return c, lazy, nil
}

// runCodecServer serves the codec to the Web UI and the Temporal CLI.
func runCodecServer(ctx context.Context, logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("worker codec-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	origins := fs.String("ui-origin", "http://127.0.0.1:8233,http://localhost:8233", "comma-separated Web UI origins allowed by CORS")
	accounts := fs.String("accounts", os.Getenv("BYOK_ACCOUNT_ID"), "comma-separated IBM Cloud accounts whose IAM tokens may decode (default BYOK_ACCOUNT_ID)")
	noAuth := fs.Bool("dev-no-auth", false, "development only: serve without checking Authorization; refused unless --addr is a loopback address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := codec.FromEnv(ctx, nil)
	if err != nil {
		return fmt.Errorf("start codec server: %w", err)
	}
	cfg := codecserver.Config{Codec: c, Origins: splitList(*origins)}
	if cfg.Auth, err = codecAuth(logger, *addr, *accounts, *noAuth); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("start codec server: %w: choose another --addr", err)
	}
	srv := &http.Server{Handler: codecserver.Handler(cfg), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	logger.Info("ready", "codecEndpoint", "http://"+ln.Addr().String(), "uiOrigins", cfg.Origins, "authorization", cfg.Auth != nil)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped", "codecEndpoint", "http://"+ln.Addr().String())
	return nil
}

// codecAuth is IAM token validation, or nothing when --dev-no-auth is set
// on a loopback address.
func codecAuth(logger *slog.Logger, addr, accounts string, noAuth bool) (codecserver.Authenticator, error) {
	if noAuth {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("start codec server: --dev-no-auth needs a loopback --addr such as 127.0.0.1:8081, not %q", addr)
		}
		logger.Warn("codec server authorization is OFF (--dev-no-auth): any local process can decode workflow histories; development machines only")
		return nil, nil
	}
	if accounts == "" {
		return nil, errors.New("start codec server: no account may decode: set --accounts or BYOK_ACCOUNT_ID, or --dev-no-auth on a development machine")
	}
	return &codecserver.IAM{URL: ibmenv.Read(nil).IAMURL, Accounts: splitList(accounts), CacheFor: 5 * time.Minute,
		Client: &http.Client{Timeout: ibmenv.ClientTimeout}}, nil
}

// runCodecKey administers the codec keyring: `worker codec-key rotate`
// adds a new key (creating the keyring on first use).
func runCodecKey(ctx context.Context, _ *slog.Logger, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: worker codec-key rotate [--root-key ID | --create-root-key NAME]")
	}
	fs := flag.NewFlagSet("worker codec-key rotate", flag.ContinueOnError)
	rootKey := fs.String("root-key", os.Getenv(codec.EnvRootKey), "platform root key to wrap the new key (default BYOK_CODEC_ROOT_KEY_ID, else the newest key's)")
	create := fs.String("create-root-key", "", "create the platform root key NAME when the keyring has none yet (needs Writer)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	path := os.Getenv(codec.EnvKeyring)
	if path == "" {
		return errors.New("rotate codec key: BYOK_CODEC_KEYRING is not set: name the keyring file")
	}
	root, err := rotationRootKey(ctx, path, *rootKey, *create)
	if err != nil {
		return err
	}
	w, _, err := codec.Wrapper(nil)
	if err != nil {
		return err
	}
	e, err := codec.Rotate(ctx, path, w, root)
	if err != nil {
		return err
	}
	fmt.Printf("codec key %s added to %s, wrapped by platform root key %s (version %s)\n", e.ID, path, e.RootKeyID, e.KeyVersion)
	return nil
}

// rotationRootKey picks the root key: the flag, else the newest entry's,
// else a new one when create names it.
func rotationRootKey(ctx context.Context, path, rootKey, create string) (string, error) {
	if rootKey != "" {
		return rootKey, nil
	}
	if newest, ok := codec.NewestRootKey(path); ok {
		return newest, nil
	}
	if create == "" {
		return "", fmt.Errorf("rotate codec key: keyring %s is empty and no root key is named: pass --root-key ID, set %s, or --create-root-key NAME", path, codec.EnvRootKey)
	}
	return codec.CreateRootKey(ctx, nil, create)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
