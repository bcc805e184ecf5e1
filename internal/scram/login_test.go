package scram_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/byokflow/byokflow/internal/scram"
	"github.com/byokflow/byokflow/node/pgserver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// skipNoPostgres is the one message of the tests skipped for want of the
// PostgreSQL server binaries.
const skipNoPostgres = "postgresql server binaries not found (apt-get install postgresql): skipping real-server tests"

// startServer runs a throwaway PostgreSQL server for one test and returns
// it with a superuser connection over its socket.
func startServer(t *testing.T) (*pgserver.Server, *pgx.Conn) {
	t.Helper()
	if _, err := pgserver.FindBin(); errors.Is(err, pgserver.ErrBinariesMissing) {
		t.Skip(skipNoPostgres)
	}
	root, err := os.MkdirTemp("", "scram-")
	must(t, err)
	must(t, os.Chmod(root, 0o755)) // the server's OS user must traverse it
	port, err := pgserver.FreePort()
	must(t, err)
	s, err := pgserver.New(pgserver.Config{DataDir: filepath.Join(root, "data"), SocketDir: filepath.Join(root, "s"), Port: port})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(func() {
		must(t, s.Stop(context.Background()))
		cancel()
		os.RemoveAll(root)
	})
	must(t, s.Init(ctx))
	must(t, s.Start(ctx))
	conn, err := s.Connect(ctx, "postgres")
	must(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return s, conn
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// login connects over TCP with a password, which pg_hba.conf sends
// through SCRAM-SHA-256.
func login(port int, user, password string) error {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=postgres sslmode=disable", port, user))
	if err != nil {
		return err
	}
	cfg.Password = password
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		return err
	}
	return conn.Close(context.Background())
}

func TestVerifier_LetsTheRightPasswordLogIn(t *testing.T) {
	s, conn := startServer(t)
	password, err := scram.NewPassword()
	must(t, err)
	v, err := scram.Verifier(password)
	must(t, err)
	_, err = conn.Exec(context.Background(), "CREATE ROLE alice LOGIN")
	must(t, err)
	_, err = conn.Exec(context.Background(), "ALTER ROLE alice PASSWORD '"+v+"'")
	must(t, err)
	var stored string
	must(t, conn.QueryRow(context.Background(), "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'").Scan(&stored))
	if stored != v {
		t.Fatal("PostgreSQL did not store the verifier as it is")
	}

	must(t, login(s.Port(), "alice", password))
	err = login(s.Port(), "alice", password[:31]+"!")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Fatalf("a wrong password: got %v, want invalid_password (28P01)", err)
	}
}

// PostgreSQL hashes a plaintext password with a random salt; with that salt
// this package must produce the very same verifier.
func TestBuild_AgreesWithALivePostgreSQL(t *testing.T) {
	_, conn := startServer(t)
	ctx := context.Background()
	const password = "correct horse battery staple"
	_, err := conn.Exec(ctx, "CREATE ROLE bob PASSWORD '"+password+"'") // password_encryption is scram-sha-256
	must(t, err)
	var pg string
	must(t, conn.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = 'bob'").Scan(&pg))
	salt := strings.Split(strings.Split(pg, ":")[1], "$")[0]
	saltBytes, err := base64.StdEncoding.DecodeString(salt)
	must(t, err)
	ours, err := scram.Build(password, saltBytes, 4096)
	must(t, err)
	if ours != pg {
		t.Fatalf("verifier %s, PostgreSQL made %s", ours, pg)
	}
}
