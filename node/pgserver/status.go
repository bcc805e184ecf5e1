package pgserver

import (
	"context"
	"fmt"
	"time"
)

// Status is what a node reports about its server.
type Status struct {
	// Running: a postmaster runs on DataDir (Running). When false, every
	// other field is zero.
	Running bool
	// InRecovery: the server is a standby (pg_is_in_recovery()).
	InRecovery bool
	// Streaming: on a standby, its WAL receiver is connected to the primary
	// and streaming (pg_stat_wal_receiver.status = 'streaming'). Always
	// false on a primary.
	Streaming bool
	// LagBytes: on a standby, how much WAL the primary has (as it last told
	// this standby, or as received if that is further) that this standby
	// has not replayed yet. On a primary, the largest such gap among its
	// connected standbys (flushed WAL minus their replay position).
	LagBytes int64
	// ReplayLag: on a standby, zero when it has replayed all it received,
	// else the time since the last transaction it replayed committed on
	// the primary. On a primary, the largest replay_lag of its standbys
	// (PostgreSQL reports none for a standby that is idle and caught up).
	ReplayLag time.Duration
	// Standbys: on a primary, how many standbys are connected.
	Standbys int
}

// Status reads the server's role and replication state. A server that is
// not running is a zero Status and no error.
func (s *Server) Status(ctx context.Context) (Status, error) {
	run, err := s.Running()
	if err != nil || !run {
		return Status{}, err
	}
	conn, err := s.Connect(ctx, "postgres")
	if err != nil {
		return Status{}, fmt.Errorf("read server status: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st := Status{Running: true}
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&st.InRecovery); err != nil {
		return Status{}, fmt.Errorf("read server status: %w", err)
	}
	if st.InRecovery {
		err = conn.QueryRow(ctx, standbyStatusSQL).Scan(&st.Streaming, &st.LagBytes, &st.ReplayLag)
	} else {
		err = conn.QueryRow(ctx, primaryStatusSQL).Scan(&st.Standbys, &st.LagBytes, &st.ReplayLag)
	}
	if err != nil {
		return Status{}, fmt.Errorf("read replication status: %w", err)
	}
	return st, nil
}

// standbyStatusSQL reads a standby's Streaming, LagBytes and ReplayLag.
const standbyStatusSQL = `
SELECT coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false),
       coalesce(pg_wal_lsn_diff(
           greatest((SELECT latest_end_lsn FROM pg_stat_wal_receiver), pg_last_wal_receive_lsn()),
           pg_last_wal_replay_lsn()), 0)::bigint,
       CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()
            THEN interval '0'
            ELSE coalesce(now() - pg_last_xact_replay_timestamp(), interval '0') END`

// primaryStatusSQL reads a primary's standby count, LagBytes and ReplayLag.
const primaryStatusSQL = `
SELECT count(*)::int,
       coalesce(max(pg_wal_lsn_diff(pg_current_wal_flush_lsn(), replay_lsn)), 0)::bigint,
       coalesce(max(replay_lag), interval '0')
FROM pg_stat_replication`

// Standby is one standby connected to a primary (pg_stat_replication).
type Standby struct {
	AppName   string        // application_name (Source.AppName)
	State     string        // "startup", "catchup", "streaming", "backup" or "stopping"
	LagBytes  int64         // the primary's flushed WAL not yet replayed there
	ReplayLag time.Duration // replay_lag; zero when PostgreSQL reports none
}

// Standbys lists the standbys connected to this server, a primary, ordered
// by application name.
func (s *Server) Standbys(ctx context.Context) ([]Standby, error) {
	conn, err := s.Connect(ctx, "postgres")
	if err != nil {
		return nil, fmt.Errorf("list standbys: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `
SELECT application_name, state,
       coalesce(pg_wal_lsn_diff(pg_current_wal_flush_lsn(), replay_lsn), 0)::bigint,
       coalesce(replay_lag, interval '0')
FROM pg_stat_replication ORDER BY application_name`)
	if err != nil {
		return nil, fmt.Errorf("list standbys: %w", err)
	}
	defer rows.Close()
	var out []Standby
	for rows.Next() {
		var sb Standby
		if err := rows.Scan(&sb.AppName, &sb.State, &sb.LagBytes, &sb.ReplayLag); err != nil {
			return nil, fmt.Errorf("list standbys: %w", err)
		}
		out = append(out, sb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list standbys: %w", err)
	}
	return out, nil
}
