package pgserver

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The node agent may be SIGKILLed; its server must keep running, and the
// agent's next incarnation must adopt it.
func TestServer_SurvivesKilledStarter(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	root := testRoot(t)
	port, err := FreePort()
	require.NoError(t, err)
	s := testServerAt(t, root, "p", port) // registered first: stops the server at the end

	// The helper (this test binary) starts the server in a process group of
	// its own, as an agent run by a supervisor would be; then the whole group
	// is killed.
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+s.DataDir(), helperEnv+"_PORT="+strconv.Itoa(port))
	helper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	helper.Stderr = testWriter{t}
	out, err := helper.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, helper.Start())
	line := readLine(t, bufio.NewReader(out), 2*time.Minute)
	postmaster, err := strconv.Atoi(strings.TrimPrefix(line, "started "))
	require.NoError(t, err, "helper said %q", line)

	pgid, err := syscall.Getpgid(postmaster)
	require.NoError(t, err)
	require.NotEqual(t, helper.Process.Pid, pgid, "the postmaster must not be in the starter's process group")
	require.NoError(t, syscall.Kill(-helper.Process.Pid, syscall.SIGKILL))
	require.Error(t, helper.Wait(), "the helper was killed")

	time.Sleep(500 * time.Millisecond) // a server that would die with its starter has done so by now
	run, err := s.Running()
	require.NoError(t, err)
	require.True(t, run, "the server died with the process that started it")
	require.NoError(t, s.Start(ctx), "a new Server adopts the running one")
	pf, _, err := s.readPidFile()
	require.NoError(t, err)
	require.Equal(t, postmaster, pf.pid, "adopted, not restarted")
	conn, err := s.Connect(ctx, "postgres")
	require.NoError(t, err)
	require.NoError(t, conn.Ping(ctx))
	require.NoError(t, conn.Close(ctx))

	wrongPort := testServerAt(t, root, "p", port+1)
	require.ErrorContains(t, wrongPort.Start(ctx), "already runs")
	_, err = os.Stat(filepath.Join(s.DataDir(), "postmaster.pid"))
	require.NoError(t, err)
}
