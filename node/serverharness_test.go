package node

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha512"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/internal/scram"
	"github.com/byokflow/byokflow/node/fscrypt"
)

// serving is a node of the harness whose server runs, with what a test
// needs to reach it as the instance's operator.
type serving struct {
	instance, node, database string
	password                 string // the admin role's, known to the operator only
	verifier                 string // its SCRAM verifier, what StartPrimary got
	report                   contract.NodeReport
	source                   contract.ReplicationSource // a primary's, for its standbys
}

func (s serving) ref() nodeRef { return nodeRef{InstanceID: s.instance, NodeID: s.node} }

// startPrimary provisions node of instance as the workflow does: InstallKey,
// then StartPrimary with the SCRAM verifier of a fresh admin password.
func (h *harness) startPrimary(instance, node, database string) serving {
	h.t.Helper()
	_, err := h.installFor(instance, node)
	require.NoError(h.t, err)
	password, err := scram.NewPassword()
	require.NoError(h.t, err)
	verifier, err := scram.Verifier(password)
	require.NoError(h.t, err)
	res, err := h.startPrimaryAgain(serving{instance: instance, node: node, database: database, verifier: verifier})
	require.NoError(h.t, err)
	require.Equal(h.t, contract.KeyActive, res.Report.State, res.Report.Detail)
	return serving{instance: instance, node: node, database: database, password: password, verifier: verifier,
		report: res.Report, source: res.Primary}
}

// startPrimaryAgain runs StartPrimary for s as a retry does.
func (h *harness) startPrimaryAgain(s serving) (contract.StartPrimaryResult, error) {
	return result[contract.StartPrimaryResult](h, contract.ActivityStartPrimary, contract.StartPrimaryInput{
		InstanceID: s.instance, NodeID: s.node, DatabaseName: s.database, AdminVerifier: s.verifier,
		RootKeyID: h.rootKey})
}

// startStandby provisions node as a standby of primary p.
func (h *harness) startStandby(p serving, node string) serving {
	h.t.Helper()
	_, err := h.installFor(p.instance, node)
	require.NoError(h.t, err)
	s := serving{instance: p.instance, node: node, database: p.database, password: p.password}
	rep, err := h.startStandbyAgain(p, s)
	require.NoError(h.t, err)
	require.Equal(h.t, contract.KeyActive, rep.State, rep.Detail)
	s.report = rep
	return s
}

// startStandbyAgain runs StartStandby for s from primary p.
func (h *harness) startStandbyAgain(p, s serving) (contract.NodeReport, error) {
	return h.execute(contract.ActivityStartStandby, contract.StartStandbyInput{InstanceID: s.instance,
		NodeID: s.node, Primary: p.source})
}

// superuser connects to database on n's server as the agent does: role
// postgres over the unix socket.
func (h *harness) superuser(n nodeRef, database string) *pgx.Conn {
	h.t.Helper()
	m, err := readMeta(h.agent.dirsOf(n))
	require.NoError(h.t, err)
	srv, err := h.agent.serverOf(n, m)
	require.NoError(h.t, err)
	c, err := srv.Connect(h.ctx, database)
	require.NoError(h.t, err)
	h.t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// conn logs in to database on s's server as the admin role, over TCP with
// its password, as the operator does; closed when the test ends.
func (h *harness) conn(s serving, database string) *pgx.Conn {
	h.t.Helper()
	cfg, err := pgx.ParseConfig("sslmode=disable connect_timeout=10")
	require.NoError(h.t, err)
	host, port, err := splitAddress(h.addressOf(s))
	require.NoError(h.t, err)
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = host, uint16(port), contract.AdminRole, s.password, database
	c, err := pgx.ConnectConfig(h.ctx, cfg)
	require.NoError(h.t, err)
	h.t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// addressOf is the server address of s, from the node's meta (the port
// stays across restarts).
func (h *harness) addressOf(s serving) string {
	h.t.Helper()
	m, err := readMeta(h.agent.dirsOf(s.ref()))
	require.NoError(h.t, err)
	require.NotZero(h.t, m.Port, "node %s has no server", s.node)
	return address(m.Port)
}

// postmasterPid is the pid the server of n's postmaster.pid names.
func (h *harness) postmasterPid(n nodeRef) int {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.agent.dirsOf(n).pgdata, "postmaster.pid"))
	require.NoError(h.t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(h.t, err)
	return pid
}

// keyStatus is the kernel's view of fscrypt key id on the volume.
func (h *harness) keyStatus(id string) fscrypt.Status {
	h.t.Helper()
	parsed, err := fscrypt.ParseIdentifier(id)
	require.NoError(h.t, err)
	st, err := fscrypt.KeyStatus(h.vol.Dir, parsed)
	require.NoError(h.t, err)
	return st
}

// storageKeyID computes, independently of the agent, the identifier of
// the fscrypt key of node n with DEK dek: HKDF-SHA512 of the DEK with the
// node's info, as the kernel identifies it. A change of derivation would
// lock every existing node out of its data.
func storageKeyID(t testing.TB, dek []byte, n nodeRef) string {
	t.Helper()
	id, err := fscrypt.ComputeIdentifier(storageKey(t, dek, n))
	require.NoError(t, err)
	return id.String()
}

// storageKey is the fscrypt master key of node n with DEK dek.
func storageKey(t testing.TB, dek []byte, n nodeRef) []byte {
	t.Helper()
	key, err := hkdf.Key(sha512.New, dek, nil, "byokflow fscrypt v2 master key\x00"+n.InstanceID+"\x00"+n.NodeID, 64)
	require.NoError(t, err)
	return key
}

// requireNodeGone fails unless nothing of node n is left: no server
// process, fscrypt key keyID absent, no directories, no key slot, no DEK.
func (h *harness) requireNodeGone(n nodeRef, keyID string) {
	h.t.Helper()
	d := h.agent.dirsOf(n)
	require.Empty(h.t, procsUnder(d.root), "no server process of the node")
	require.Equal(h.t, fscrypt.StatusAbsent, h.keyStatus(keyID), "fscrypt key removed")
	for _, p := range []string{d.root, d.socket} {
		_, err := os.Lstat(p)
		require.ErrorIs(h.t, err, fs.ErrNotExist, "%s deleted", p)
	}
	_, err := os.Stat(slotPath(h.dataDir, n.InstanceID, n.NodeID))
	require.ErrorIs(h.t, err, fs.ErrNotExist, "key slot removed")
	_, live := h.agent.keys.get(n)
	require.False(h.t, live, "DEK out of memory")
}

// dekTap is a KeyWrapper in front of the agent's that keeps a copy of
// every key the agent wraps, so a test can work out the fscrypt key of a
// DEK the agent has destroyed since.
type dekTap struct {
	encryption.KeyWrapper
	mu   sync.Mutex
	keys [][]byte
}

func (w *dekTap) WrapKey(ctx context.Context, rootKeyID string, dek *encryption.DataKey,
	aad []string) (encryption.WrappedKey, error) {
	_ = dek.WithBytes(func(b []byte) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.keys = append(w.keys, bytes.Clone(b))
		return nil
	})
	return w.KeyWrapper.WrapKey(ctx, rootKeyID, dek, aad)
}

// wrapped returns the keys wrapped so far.
func (w *dekTap) wrapped() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.keys
}

// isNotExist reports whether p does not exist.
func isNotExist(p string) bool {
	_, err := os.Lstat(p)
	return errors.Is(err, fs.ErrNotExist)
}
