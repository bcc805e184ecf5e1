// Tests that docker-compose.yml, which users with a Docker engine run and
// this machine cannot, stays true: Temporal's published server, UI and
// admin images with PostgreSQL persistence, the programs of this
// repository, the ports and development settings of scripts/stack.sh, and
// the Web UI decoding through the codec server.
package byokflow_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/byokflow/byokflow/emulator"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     any               `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   any               `yaml:"depends_on"`
		Privileged  bool              `yaml:"privileged"`
	} `yaml:"services"`
}

func readCompose(t *testing.T) composeFile {
	b, err := os.ReadFile("docker-compose.yml")
	require.NoError(t, err)
	var c composeFile
	require.NoError(t, yaml.Unmarshal(b, &c))
	return c
}

func commandLine(cmd any) string {
	switch v := cmd.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i], _ = p.(string)
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func TestCompose_TemporalsPublishedImagesWithPostgres(t *testing.T) {
	c := readCompose(t)
	for _, name := range []string{"postgres", "temporal", "temporal-setup", "temporal-ui", "emulator",
		"codec-key", "codec-server", "worker", "node-a", "node-b", "node-c"} {
		require.Contains(t, c.Services, name)
	}
	require.True(t, strings.HasPrefix(c.Services["temporal"].Image, "temporalio/auto-setup:"), c.Services["temporal"].Image)
	require.True(t, strings.HasPrefix(c.Services["temporal-ui"].Image, "temporalio/ui:"))
	require.True(t, strings.HasPrefix(c.Services["temporal-setup"].Image, "temporalio/admin-tools:"))
	for name, svc := range c.Services {
		require.NotContains(t, commandLine(svc.Command), "github.com/temporalio/cli", "%s builds no dev server", name)
	}
	temporal := c.Services["temporal"].Environment
	require.Equal(t, "postgres12", temporal["DB"], "PostgreSQL persistence")
	require.Equal(t, "postgres", temporal["POSTGRES_SEEDS"])
	setup := commandLine(c.Services["temporal-setup"].Command)
	for _, sa := range []string{"ByokInstanceID", "ByokRootKeyID", "ByokOperation"} {
		require.Contains(t, setup, "--name "+sa+" --type Keyword")
	}
}

func TestCompose_PortsOfTheLocalStack(t *testing.T) {
	c := readCompose(t)
	require.Contains(t, c.Services["postgres"].Ports, "127.0.0.1:54329:5432")
	require.Contains(t, c.Services["temporal"].Ports, "127.0.0.1:7233:7233")
	require.Contains(t, c.Services["temporal-ui"].Ports, "127.0.0.1:8233:8080")
	require.Contains(t, c.Services["emulator"].Ports, "127.0.0.1:8444:8444")
	require.Contains(t, c.Services["codec-server"].Ports, "127.0.0.1:8081:8081")
}

func TestCompose_TheUIDecodesThroughTheCodecServer(t *testing.T) {
	c := readCompose(t)
	ui := c.Services["temporal-ui"].Environment
	require.Equal(t, "http://127.0.0.1:8081", ui["TEMPORAL_CODEC_ENDPOINT"], "the browser reaches the published codec port")
	require.Equal(t, "true", ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"], "the codec server wants the user's IAM token")
	server := commandLine(c.Services["codec-server"].Command)
	require.Contains(t, server, "codec-server")
	require.Contains(t, server, "--ui-origin http://127.0.0.1:8233", "CORS for the UI's published origin")
	require.NotContains(t, server, "--dev-no-auth", "production-like: authorization on")
	require.Contains(t, commandLine(c.Services["codec-key"].Command), "codec-key rotate")
}

// goPackage is the package a service runs with `go run PKG`.
func goPackage(cmd any) string {
	_, rest, ok := strings.Cut(commandLine(cmd), "go run ")
	if !ok {
		return ""
	}
	return strings.Fields(rest)[0]
}

func TestCompose_ProgramsExistAndShareTheDevSettings(t *testing.T) {
	c := readCompose(t)
	for _, name := range []string{"emulator", "codec-key", "codec-server", "worker"} {
		pkg := goPackage(c.Services[name].Command)
		require.NotEmpty(t, pkg, name)
		out, err := exec.Command("go", "list", pkg).CombinedOutput()
		require.NoError(t, err, "%s runs %s: %s", name, pkg, out)
	}
	env := c.Services["worker"].Environment
	want := map[string]string{
		"IBMCLOUD_API_KEY":          emulator.DevOperatorAPIKey,
		"BYOK_SERVICE_API_KEY":      emulator.DevServiceAPIKey,
		"BYOK_KP_INSTANCE_ID":       emulator.DevKPInstanceID,
		"BYOK_ACCOUNT_ID":           emulator.DevAccountID,
		"BYOK_SERVICE_NAME":         "hyperp-dbaas-postgresql",
		"BYOK_CODEC_API_KEY":        emulator.DevCodecAPIKey,
		"BYOK_CODEC_KP_INSTANCE_ID": emulator.DevCodecKPInstanceID,
	}
	for k, v := range want {
		require.Equal(t, v, env[k], k)
	}
	for _, k := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "BYOK_DATABASE_URL", "BYOK_KP_URL", "BYOK_IAM_URL",
		"BYOK_BACKUP_DIR", "BYOK_CODEC_KEYRING"} {
		require.NotEmpty(t, env[k], k)
	}
	for _, name := range []string{"codec-server", "codec-key"} {
		require.Equal(t, env, c.Services[name].Environment, "%s shares the worker's setting block", name)
	}
	nodeEnv := c.Services["node-a"].Environment
	require.NotContains(t, nodeEnv, "BYOK_DATABASE_URL", "node agents get no catalog credentials")
	require.NotContains(t, nodeEnv, "IBMCLOUD_API_KEY", "node agents act as the service, not the operator")
	for _, k := range []string{"BYOK_SERVICE_API_KEY", "BYOK_KP_URL", "BYOK_KP_INSTANCE_ID", "BYOK_IAM_URL",
		"BYOK_CODEC_API_KEY", "BYOK_CODEC_KP_INSTANCE_ID", "BYOK_CODEC_KEYRING"} {
		require.Equal(t, env[k], nodeEnv[k], k)
	}
}

// TestCompose_NodeAgentsRunOnEncryptedVolumes: every node container is
// privileged (loop devices, mount and fscrypt ioctls) and runs the node
// agent through the entry point that makes its encrypted volume.
func TestCompose_NodeAgentsRunOnEncryptedVolumes(t *testing.T) {
	c := readCompose(t)
	script, err := os.ReadFile("scripts/node-entrypoint.sh")
	require.NoError(t, err)
	for _, host := range []string{"a", "b", "c"} {
		svc := c.Services["node-"+host]
		require.True(t, svc.Privileged, "node-%s must be privileged for loop devices and fscrypt", host)
		require.Equal(t, "scripts/node-entrypoint.sh "+host, commandLine(svc.Command))
	}
	for _, want := range []string{"mkfs.ext4 -q -F -O encrypt", "mount -o loop",
		"go run ./worker node --host \"$host\" --data-dir /node --storage /storage"} {
		require.Contains(t, string(script), want)
	}
	out, err := exec.Command("go", "list", "./worker").CombinedOutput()
	require.NoError(t, err, string(out))
}
