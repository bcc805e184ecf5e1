package contract

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidateInstanceName_Cases(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"orders-db", true},
		{"abc", true},
		{"a" + strings.Repeat("b", 39), true},
		{"a" + strings.Repeat("b", 40), false},
		{"ab", false},
		{"1abc", false},
		{"-abc", false},
		{"Orders", false},
		{"orders_db", false},
		{"orders db", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateInstanceName(tt.name)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "validate instance name")
			require.ErrorContains(t, err, "lower-case letters")
		})
	}
}

func TestValidateNodeCount_Bounds(t *testing.T) {
	for n := -1; n <= 10; n++ {
		err := ValidateNodeCount(n)
		if n >= 1 && n <= 9 {
			require.NoError(t, err, "n=%d", n)
		} else {
			require.ErrorContains(t, err, "choose 1 to 9 nodes", "n=%d", n)
		}
	}
}

func TestValidateRootKeyID_Cases(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"02fd6835-6001-4482-a892-13bd2085f75d", true},
		{"02FD6835-6001-4482-A892-13BD2085F75D", true},
		{"US-South-Test-Key", true},
		{"my_key-1", true},
		{"ab", true},
		{strings.Repeat("a", 90), true},
		{strings.Repeat("a", 91), false},
		{"a", false},
		{"", false},
		{"my key", false},
		{"key/1", false},
		{"rotate", false},
		{"versions", false},
		{"crn:v1:bluemix:public:kms:us-south:a/1:2:key:3", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := ValidateRootKeyID(tt.id)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "validate root key id")
		})
	}
}

func TestValidateKPInstanceID_Cases(t *testing.T) {
	require.NoError(t, ValidateKPInstanceID("9b7c1a2e-1111-4a2b-8c3d-0123456789ab"))
	require.ErrorContains(t, ValidateKPInstanceID("my-kp"), "give the instance's GUID")
	require.Error(t, ValidateKPInstanceID(""))
}

func TestValidateNodeDeadline_Cases(t *testing.T) {
	require.NoError(t, ValidateNodeDeadline(time.Minute))
	require.NoError(t, ValidateNodeDeadline(DefaultNodeDeadline))
	require.NoError(t, ValidateNodeDeadline(MaxNodeDeadline))
	require.ErrorContains(t, ValidateNodeDeadline(30*time.Second), "give 1m to 720h0m0s")
	require.Error(t, ValidateNodeDeadline(-time.Hour))
	require.ErrorContains(t, ValidateNodeDeadline(1000000*time.Hour), "give 1m to 720h0m0s", "absurd deadline")
}

func TestProvisionInput_WithDefaults(t *testing.T) {
	in := ProvisionInput{}.WithDefaults()
	require.Equal(t, 3, in.Nodes)
	require.Equal(t, 4*time.Hour, in.NodeDeadline.D())

	in = ProvisionInput{Nodes: 5, NodeDeadline: Duration(time.Hour)}.WithDefaults()
	require.Equal(t, 5, in.Nodes)
	require.Equal(t, time.Hour, in.NodeDeadline.D())
}

func TestProvisionInput_ValidateReportsEveryProblem(t *testing.T) {
	valid := ProvisionInput{InstanceID: "orders-db", RootKeyID: "orders-root",
		KPInstanceID: "9b7c1a2e-1111-4a2b-8c3d-0123456789ab", AdminVerifier: testVerifier}.WithDefaults()
	require.NoError(t, valid.Validate())

	bad := ProvisionInput{InstanceID: "X", RootKeyID: "", KPInstanceID: "kp", Nodes: 12,
		AdminVerifier: "hunter2"}.WithDefaults()
	err := bad.Validate()
	require.NotContains(t, err.Error(), "hunter2", "a password given as a verifier is never repeated")
	for _, want := range []string{"instance name", "root key id", "key protect instance id", "node count", "admin verifier"} {
		require.ErrorContains(t, err, want)
	}
}

func TestRotateInput_Validate(t *testing.T) {
	require.NoError(t, RotateInput{InstanceID: "orders-db"}.WithDefaults().Validate())
	require.Equal(t, DefaultNodeDeadline, RotateInput{}.WithDefaults().NodeDeadline.D())
	require.ErrorContains(t, RotateInput{InstanceID: "Orders"}.WithDefaults().Validate(), "instance name")
}

// testVerifier has the shape of a PostgreSQL SCRAM-SHA-256 verifier.
const testVerifier = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"

func TestValidateAdminVerifier_RefusesWhatIsNotAVerifier(t *testing.T) {
	require.NoError(t, ValidateAdminVerifier(testVerifier))
	for _, bad := range []string{"", "secret-password", "md5abc", "SCRAM-SHA-256$only-one"} {
		require.ErrorContains(t, ValidateAdminVerifier(bad), "verifier", bad)
	}
}

func TestSuspendAndResumeInput_DefaultsAndValidate(t *testing.T) {
	require.NoError(t, SuspendInput{InstanceID: "orders-db"}.WithDefaults().Validate())
	require.NoError(t, ResumeInput{InstanceID: "orders-db"}.WithDefaults().Validate())
	require.Equal(t, DefaultNodeDeadline, SuspendInput{}.WithDefaults().NodeDeadline.D())
	require.Equal(t, DefaultNodeDeadline, ResumeInput{}.WithDefaults().NodeDeadline.D())
	require.ErrorContains(t, SuspendInput{InstanceID: "Orders"}.WithDefaults().Validate(), "instance name")
	require.ErrorContains(t, ResumeInput{InstanceID: "orders-db", NodeDeadline: Duration(time.Nanosecond)}.Validate(),
		"deadline")
}
