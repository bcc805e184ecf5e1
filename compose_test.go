// Tests that docker-compose.yml, which users with a Docker engine run and
// this machine cannot, describes the same stack as scripts/stack.sh: the
// same programs, ports, search attributes and development settings.
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
		DependsOn   []string          `yaml:"depends_on"`
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

func TestCompose_DescribesTheStack(t *testing.T) {
	c := readCompose(t)
	for _, name := range []string{"postgres", "temporal", "emulator", "worker", "node-a", "node-b", "node-c"} {
		require.Contains(t, c.Services, name)
	}
	require.Contains(t, c.Services["postgres"].Ports, "127.0.0.1:54329:5432")
	require.Contains(t, c.Services["temporal"].Ports, "127.0.0.1:7233:7233")
	require.Contains(t, c.Services["temporal"].Ports, "127.0.0.1:8233:8233")
	require.Contains(t, c.Services["emulator"].Ports, "127.0.0.1:8444:8444")
	temporal := commandLine(c.Services["temporal"].Command)
	require.Contains(t, temporal, "github.com/temporalio/cli/cmd/temporal@v1.5.1")
	for _, sa := range []string{"ByokInstanceID=Keyword", "ByokRootKeyID=Keyword", "ByokOperation=Keyword"} {
		require.Contains(t, temporal, sa)
	}
}

func TestCompose_ProgramsExistAndShareTheDevSettings(t *testing.T) {
	c := readCompose(t)
	for _, name := range []string{"emulator", "worker"} {
		cmd := strings.Fields(commandLine(c.Services[name].Command))
		require.GreaterOrEqual(t, len(cmd), 3, name)
		require.Equal(t, []string{"go", "run"}, cmd[:2], name)
		out, err := exec.Command("go", "list", cmd[2]).CombinedOutput()
		require.NoError(t, err, "%s runs %s: %s", name, cmd[2], out)
	}
	env := c.Services["worker"].Environment
	want := map[string]string{
		"IBMCLOUD_API_KEY":     emulator.DevOperatorAPIKey,
		"BYOK_SERVICE_API_KEY": emulator.DevServiceAPIKey,
		"BYOK_KP_INSTANCE_ID":  emulator.DevKPInstanceID,
		"BYOK_ACCOUNT_ID":      emulator.DevAccountID,
		"BYOK_SERVICE_NAME":    "hyperp-dbaas-postgresql",
	}
	for k, v := range want {
		require.Equal(t, v, env[k], k)
	}
	for _, k := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "BYOK_DATABASE_URL", "BYOK_KP_URL", "BYOK_IAM_URL", "BYOK_BACKUP_DIR"} {
		require.NotEmpty(t, env[k], k)
	}
	nodeEnv := c.Services["node-a"].Environment
	require.NotContains(t, nodeEnv, "BYOK_DATABASE_URL", "node agents get no catalog credentials")
	require.NotContains(t, nodeEnv, "IBMCLOUD_API_KEY", "node agents act as the service, not the operator")
	for _, k := range []string{"BYOK_SERVICE_API_KEY", "BYOK_KP_URL", "BYOK_KP_INSTANCE_ID", "BYOK_IAM_URL"} {
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
