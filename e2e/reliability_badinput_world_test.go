package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
	"github.com/byokflow/byokflow/internal/temporalenv"
)

// badWorld is what the bad-input cases share: one stack with the worker,
// node agents a, b, c (a only in make test, whose cases stop before any
// node) and the step-2 authorization, keys in every state, and (made on
// first use) an instance with a backup.
type badWorld struct {
	s                  *Stack
	clock              *skewClock
	good, other        string // root keys
	standard           string // a standard key
	disabled           string
	destroyed          string
	elsewhere          string // a root key of another Key Protect instance
	wrongAPIKey        string
	revokedAPIKey      string
	secrets            []string // must never be printed
	once               sync.Once
	source, backupID   string // an active instance (1 node) and its backup
	backupPath         string
	pristine           []byte
	wfClient           client.Client
	nextWorkflowNumber atomic.Int64
}

// skewClock is the emulator's clock: wall time plus a skew the test sets
// for a moment, to have IAM issue a token that is already expired.
type skewClock struct{ skew atomic.Int64 }

func (c *skewClock) now() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) }

// newBadWorld starts the stack and makes the keys.
func newBadWorld(t *testing.T) *badWorld {
	clock := &skewClock{}
	s := NewStack(t, emulatortest.WithConfig(func(c *emulator.Config) { c.Clock = clock.now }))
	s.StartWorker()
	s.StartNode("a")
	if relFull() { // only the full matrix provisions; make test's cases stop before any node
		s.StartNode("b")
		s.StartNode("c")
	}
	s.Emu.AuthorizeService(t)
	ctx := context.Background()
	ops := s.Emu.OperatorClient(t)
	root := func(name string) string {
		k, err := ops.CreateRootKey(ctx, name, nil)
		require.NoError(t, err)
		return k.ID
	}
	b := &badWorld{s: s, clock: clock, good: root("bad-input-good"), other: root("bad-input-other"),
		disabled: root("bad-input-disabled"), destroyed: root("bad-input-destroyed")}
	std, err := ops.CreateStandardKey(ctx, "bad-input-standard", nil)
	require.NoError(t, err)
	b.standard = std.ID
	require.NoError(t, ops.DisableKey(ctx, b.disabled))
	_, err = ops.DeleteKey(ctx, b.destroyed, kp.ReturnMinimal)
	require.NoError(t, err)
	b.elsewhere = s.keyInAnotherKPInstance(t)

	// A revoked API key: an operator's key replaced by a new one.
	dev := s.Emu.Dev
	b.revokedAPIKey = "byok-e2e-revoked-apikey-" + randomHex(8)
	roles := map[string]string{dev.KPInstanceID: "Manager"}
	require.NoError(t, s.Emu.Server.AddUser(dev.AccountID, b.revokedAPIKey, "IBMid-e2e-revoked", roles))
	require.NoError(t, s.Emu.Server.AddUser(dev.AccountID, "byok-e2e-renewed-apikey-"+randomHex(8), "IBMid-e2e-revoked", roles))
	b.wrongAPIKey = "byok-e2e-wrong-apikey-" + randomHex(8)
	b.secrets = []string{dev.OperatorAPIKey, dev.ServiceAPIKey, dev.ApproverAPIKey, dev.CodecAPIKey,
		b.revokedAPIKey, b.wrongAPIKey, "byok-e2e-other-operator-apikey-000000000001"}
	// The programs' client settings: payloads and failures sealed by the codec.
	opts, err := temporalenv.Options(envLookup(s.getenv()), nil, s.Codec())
	require.NoError(t, err)
	b.wfClient, err = client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(b.wfClient.Close)
	return b
}

// backup makes, once, an active one-node instance with a table and a
// backup of it; the tamper cases damage the backup file and put it back.
func (b *badWorld) backup(t *testing.T) string {
	b.once.Do(func() {
		s := b.s
		b.source = UniqueName("bad-src")
		s.mustJSON(&statusDoc{}, "provision", "--instance", b.source, "--root-key", b.good, "--nodes", "1", "--json")
		r := s.Starter("sql", "--instance", b.source, "-c",
			"create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 2000) g")
		require.Equal(t, 0, r.Code, r.Stderr)
		var doc backupDoc
		s.mustJSON(&doc, "backup", "--instance", b.source, "--json")
		b.backupID, b.backupPath = doc.BackupID, s.backupFile(doc.BackupID)
		var err error
		b.pristine, err = os.ReadFile(b.backupPath)
		require.NoError(t, err)
	})
	require.NotEmpty(t, b.backupID, "the backup of the bad-input cases was made")
	return b.backupID
}

// damageBackup writes fn(pristine) over the backup file and returns how
// to put the pristine file back.
func (b *badWorld) damageBackup(t *testing.T, fn func([]byte) []byte) (restore func()) {
	b.backup(t)
	require.NoError(t, os.WriteFile(b.backupPath, fn(append([]byte(nil), b.pristine...)), 0o600))
	return func() { require.NoError(t, os.WriteFile(b.backupPath, b.pristine, 0o600)) }
}

// workflow starts workflow name with in directly, as a client that skips
// the CLI's checks would, and returns its failure as the starter prints
// one: "error: MESSAGE [Type]", code 1 (0 if it succeeded).
func (b *badWorld) workflow(t *testing.T, name string, in any) Result {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := fmt.Sprintf("bad-input-%s-%d", randomHex(3), b.nextWorkflowNumber.Add(1))
	run, err := b.wfClient.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: contract.ControlTaskQueue}, name, in)
	require.NoError(t, err, "start %s", name)
	err = run.Get(ctx, nil)
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return Result{}
	case errors.As(err, &appErr):
		return Result{Stderr: fmt.Sprintf("error: %s [%s]", appErr.Message(), appErr.Type()), Code: 1}
	}
	return Result{Stderr: "error: " + err.Error(), Code: 1}
}

// expiredTokenIAM serves, as IAM's token endpoint, an access token the
// emulator issued two hours ago (so expired, though validly signed) and
// says it is good for an hour: the CLI uses it, and Key Protect must
// refuse it. The emulator cannot expire a token on demand; its clock
// (Config.Clock) is set back two hours for the one token request.
func (b *badWorld) expiredTokenIAM(t *testing.T) string {
	b.clock.skew.Store(int64(-2 * time.Hour))
	token := b.s.Emu.Token(t, b.s.Emu.Dev.OperatorAPIKey)
	b.clock.skew.Store(0)
	b.secrets = append(b.secrets, token)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "refresh_token": "none",
			"token_type": "Bearer", "expires_in": 3600, "expiration": time.Now().Add(time.Hour).Unix()})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// validVerifier is a well-formed SCRAM verifier, for workflow inputs
// whose other fields are the bad ones.
const validVerifier = "SCRAM-SHA-256$4096:c2FsdHNhbHQ=$c3RvcmVkMDE=:c2VydmVyMDE="

// provisionInput is a ProvisionInput valid but for what bad changes.
func (b *badWorld) provisionInput(bad func(*contract.ProvisionInput)) contract.ProvisionInput {
	in := contract.ProvisionInput{InstanceID: UniqueName("bad-wf"), RootKeyID: b.good,
		KPInstanceID: b.s.Emu.Dev.KPInstanceID, Nodes: 1, RequestedBy: "bad-input",
		NodeDeadline: contract.Duration(time.Hour), AdminVerifier: validVerifier}
	bad(&in)
	return in
}
