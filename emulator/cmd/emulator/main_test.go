package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
)

// buildBinary compiles the emulator command once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "emulator")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// startDev runs the binary with --dev and returns its export lines as a
// map, and the running command.
func startDev(t *testing.T, bin, dataDir string) (map[string]string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "--dev", "--data", dataDir, "--addr", "127.0.0.1:0", "--enable-delay", "0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	env := map[string]string{}
	for want := len(emulator.DevAccount{}.ExportLines("")); len(env) < want; {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "stdout closed after %d lines", len(env))
			name, value, found := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			require.True(t, found && strings.HasPrefix(line, "export "), "not an export line: %q", line)
			env[name] = value
		case <-time.After(20 * time.Second):
			require.FailNow(t, "no export lines")
		}
	}
	return env, cmd
}

func stop(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "clean exit on SIGTERM")
	case <-time.After(10 * time.Second):
		require.FailNow(t, "no exit after SIGTERM")
	}
}

func TestDevBinary_ExportsWorkingSettings(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	env, cmd := startDev(t, bin, data)
	for _, name := range []string{"IBMCLOUD_API_KEY", "BYOK_SERVICE_API_KEY", "BYOK_SERVICE_NAME", "BYOK_KP_URL",
		"BYOK_KP_INSTANCE_ID", "BYOK_IAM_URL", "BYOK_ACCOUNT_ID", "BYOK_DEV_APPROVER_API_KEY"} {
		require.NotEmpty(t, env[name], name)
	}
	require.Equal(t, env["BYOK_KP_URL"], env["BYOK_IAM_URL"])
	require.Equal(t, "hyperp-dbaas-postgresql", env["BYOK_SERVICE_NAME"])
	require.Equal(t, emulator.DevKPInstanceID, env["BYOK_KP_INSTANCE_ID"])

	c, err := kp.New(kp.ClientConfig{BaseURL: env["BYOK_KP_URL"], APIKey: env["IBMCLOUD_API_KEY"],
		TokenURL: env["BYOK_IAM_URL"] + "/oidc/token", InstanceID: env["BYOK_KP_INSTANCE_ID"]}, kp.DefaultTransport())
	require.NoError(t, err)
	k, err := c.CreateRootKey(context.Background(), "from-binary", nil)
	require.NoError(t, err)

	svc, err := kp.New(kp.ClientConfig{BaseURL: env["BYOK_KP_URL"], APIKey: env["BYOK_SERVICE_API_KEY"],
		TokenURL: env["BYOK_IAM_URL"] + "/oidc/token", InstanceID: env["BYOK_KP_INSTANCE_ID"]}, kp.DefaultTransport())
	require.NoError(t, err)
	_, err = svc.Wrap(context.Background(), k.ID, []byte("AAAA"), nil)
	var kerr *kp.Error
	require.ErrorAs(t, err, &kerr, "no step-2 policy in a fresh dev account")
	require.Equal(t, 403, kerr.StatusCode)

	pc, err := iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{
		URL: env["BYOK_IAM_URL"], Authenticator: &core.IamAuthenticator{ApiKey: env["IBMCLOUD_API_KEY"], URL: env["BYOK_IAM_URL"]}})
	require.NoError(t, err)
	list, _, err := pc.ListPolicies(pc.NewListPoliciesOptions(env["BYOK_ACCOUNT_ID"]))
	require.NoError(t, err)
	require.Empty(t, list.Policies)
	stop(t, cmd)

	again, cmd := startDev(t, bin, data)
	delete(again, "BYOK_KP_URL")
	delete(again, "BYOK_IAM_URL")
	delete(env, "BYOK_KP_URL")
	delete(env, "BYOK_IAM_URL")
	require.Equal(t, env, again, "--dev is idempotent with fixed values")
	stop(t, cmd)
	_, err = os.Stat(filepath.Join(data, "state.json"))
	require.NoError(t, err)
}
