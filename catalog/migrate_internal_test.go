package catalog

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestLoadMigrations_OrdersByVersion(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_second.sql": {Data: []byte("SELECT 2")},
		"0001_first.sql":  {Data: []byte("SELECT 1")},
		"README.md":       {Data: []byte("not a migration")},
	}
	got, err := loadMigrations(fsys)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, 1, got[0].version)
	require.Equal(t, "0001_first.sql", got[0].name)
	require.Equal(t, "SELECT 1", got[0].sql)
	require.Len(t, got[0].checksum, 64)
	require.Equal(t, 2, got[1].version)
}

func TestLoadMigrations_RejectsBadNames(t *testing.T) {
	tests := map[string]fstest.MapFS{
		"no version":        {"init.sql": {}},
		"short version":     {"001_init.sql": {}},
		"upper case":        {"0001_Init.sql": {}},
		"duplicate version": {"0001_a.sql": {}, "0001_b.sql": {}},
	}
	for name, fsys := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := loadMigrations(fsys)
			require.Error(t, err)
		})
	}
}

func TestEmbeddedMigrations_AreContiguous(t *testing.T) {
	got, err := embeddedMigrations()
	require.NoError(t, err)
	require.NotEmpty(t, got)
	want := 1
	for _, m := range got {
		require.Equal(t, want, m.version, "migration %s", m.name)
		want++
	}
}

func TestPendingMigrations_Conditions(t *testing.T) {
	m1 := migration{version: 1, name: "0001_a.sql", checksum: "aa"}
	m2 := migration{version: 2, name: "0002_b.sql", checksum: "bb"}
	tests := []struct {
		name        string
		applied     map[int]migration
		wantPending []migration
		wantChanged bool
		wantErr     bool
	}{
		{name: "fresh", applied: map[int]migration{}, wantPending: []migration{m1, m2}},
		{name: "partly applied", applied: map[int]migration{1: m1}, wantPending: []migration{m2}},
		{name: "up to date", applied: map[int]migration{1: m1, 2: m2}},
		{name: "checksum changed", applied: map[int]migration{1: {1, m1.name, "", "zz"}}, wantChanged: true, wantErr: true},
		{name: "renamed", applied: map[int]migration{1: {1, "0001_x.sql", "", "aa"}}, wantChanged: true, wantErr: true},
		{name: "newer binary", applied: map[int]migration{1: m1, 2: m2, 3: {3, "0003_c.sql", "", "cc"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pending, err := pendingMigrations([]migration{m1, m2}, tt.applied)
			if !tt.wantErr {
				require.NoError(t, err)
				require.Equal(t, tt.wantPending, pending)
				return
			}
			require.Error(t, err)
			require.Equal(t, tt.wantChanged, errors.Is(err, ErrMigrationChanged), err.Error())
		})
	}
}
