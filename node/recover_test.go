package node

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestBackoff_DoublesUpToItsMaximum(t *testing.T) {
	b := backoff{first: time.Second, max: 15 * time.Second}
	var got []time.Duration
	for range 7 {
		got = append(got, b.next())
	}
	s := time.Second
	require.Equal(t, []time.Duration{s, 2 * s, 4 * s, 8 * s, 15 * s, 15 * s, 15 * s}, got)
}

func TestNeedsRetry_OnlyStatesThatMayClear(t *testing.T) {
	for state, want := range map[contract.KeyState]bool{
		contract.KeyUnreachable: true, contract.KeyError: true,
		contract.KeyActive: false, contract.KeyRewrapRequired: false, contract.KeySuspended: false,
		contract.KeyDestroyed: false, contract.KeyPending: false,
	} {
		t.Run(string(state), func(t *testing.T) { require.Equal(t, want, needsRetry(state)) })
	}
}

func TestReportKey_IgnoresTimeAndDetail(t *testing.T) {
	a := contract.NodeReport{State: contract.KeyUnreachable, Detail: "first", ReportedAt: time.Unix(1, 0)}
	b := a
	b.Detail, b.ReportedAt = "second", time.Unix(2, 0)
	require.Equal(t, reportKey(a), reportKey(b), "an outage is recorded once, not every retry")
	b.State = contract.KeyActive
	require.NotEqual(t, reportKey(a), reportKey(b))
}

func TestAppendMissing_AddsEachNodeOnce(t *testing.T) {
	n1 := nodeRef{InstanceID: "i", NodeID: "n1"}
	reps := []contract.NodeReport{{InstanceID: "i", NodeID: "n1"}, {InstanceID: "i", NodeID: "n2"}}
	require.Equal(t, []nodeRef{n1, {InstanceID: "i", NodeID: "n2"}}, appendMissing([]nodeRef{n1}, reps))
}

func TestIDLocks_ALaterAttemptCancelsTheHolderAndTakesOver(t *testing.T) {
	l := newIDLocks()
	first, unlockFirst, err := l.lock(context.Background(), "b1")
	require.NoError(t, err)
	got, checked := make(chan context.Context), make(chan struct{})
	go func() {
		second, unlock, err := l.lock(context.Background(), "b1")
		if err == nil {
			defer unlock()
		}
		got <- second
		<-checked
	}()
	defer close(checked)
	select {
	case <-first.Done(): // the stuck first attempt is told to stop
	case <-time.After(5 * time.Second):
		t.Fatal("the holder's context was not canceled")
	}
	select {
	case <-got:
		t.Fatal("the second attempt ran while the first still held the lock")
	case <-time.After(50 * time.Millisecond):
	}
	unlockFirst()
	select {
	case second := <-got:
		require.NoError(t, second.Err(), "the new holder's context is live")
	case <-time.After(5 * time.Second):
		t.Fatal("the second attempt did not take over")
	}
}

func TestIDLocks_AWaiterGivesUpWithItsContext(t *testing.T) {
	l := newIDLocks()
	_, unlock, err := l.lock(context.Background(), "b1")
	require.NoError(t, err)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err = l.lock(ctx, "b1")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
