package contract

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The scheduled work's wire types join the camelCase and round-trip checks.
func init() {
	wireTypes = append(wireTypes, FleetRotateInput{}, FleetTally{}, FleetSkip{}, FleetRotateResult{},
		ListFleetInput{}, ListFleetResult{}, ScheduledBackupInput{}, ScheduledBackupResult{}, PrunedBackup{},
		ListExpiredBackupsInput{}, ListExpiredBackupsResult{}, ExpiredBackup{}, EraseBackupKeyInput{},
		EraseBackupKeyResult{}, DeleteBackupFileInput{}, DeleteBackupFileResult{}, RecordBackupFileDeletedInput{})
}

func TestFleetRotateInput_Validate(t *testing.T) {
	for name, tc := range map[string]struct {
		in FleetRotateInput
		ok bool
	}{
		"one instance":   {FleetRotateInput{InstanceIDs: []string{"orders-db"}}, true},
		"a root key":     {FleetRotateInput{RootKeyID: "orders-root"}, true},
		"all":            {FleetRotateInput{All: true}, true},
		"no target":      {FleetRotateInput{}, false},
		"two targets":    {FleetRotateInput{RootKeyID: "orders-root", All: true}, false},
		"bad instance":   {FleetRotateInput{InstanceIDs: []string{"Orders"}}, false},
		"parallel 0 ok":  {FleetRotateInput{All: true, Parallel: 0}, true},
		"parallel large": {FleetRotateInput{All: true, Parallel: MaxFleetParallel + 1}, false},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.in.WithDefaults().Validate()
			require.Equal(t, tc.ok, err == nil, "%v", err)
		})
	}
}

func TestFleetRotateInput_Target(t *testing.T) {
	inst, key := FleetRotateInput{InstanceIDs: []string{"orders-db"}}.Target()
	require.Equal(t, []string{"orders-db", ""}, []string{inst, key})
	inst, key = FleetRotateInput{RootKeyID: "k"}.Target()
	require.Equal(t, []string{FleetTargetAll, "k"}, []string{inst, key})
	inst, key = FleetRotateInput{All: true}.Target()
	require.Equal(t, []string{FleetTargetAll, FleetTargetAll}, []string{inst, key})
}

func TestScheduledBackupInput_Validate(t *testing.T) {
	require.NoError(t, ScheduledBackupInput{InstanceID: "orders-db"}.WithDefaults().Validate())
	require.NoError(t, ScheduledBackupInput{InstanceID: "orders-db", Keep: Duration(DefaultNodeDeadline)}.WithDefaults().Validate())
	require.Error(t, ScheduledBackupInput{InstanceID: "orders-db", Keep: -1}.WithDefaults().Validate())
	require.Error(t, ScheduledBackupInput{InstanceID: "x"}.WithDefaults().Validate())
}
