package supervise

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"

	"github.com/byokflow/byokflow/contract"
)

// tokenExt ends the name of a journal entry.
const tokenExt = ".token"

// abandonTimeout bounds the failing of one abandoned attempt.
const abandonTimeout = 5 * time.Second

// Journal records, one file per attempt in its directory, the task token
// of every activity attempt the worker runs, and removes it when the
// attempt returns. A task token names a workflow, an activity and an
// attempt; it holds no payload.
type Journal struct {
	dir string
}

// OpenJournal opens (creating, 0700) the journal in dir.
func OpenJournal(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open the attempt journal %s: %w", dir, err)
	}
	return &Journal{dir: dir}, nil
}

func (j *Journal) entry(token []byte) string {
	sum := sha256.Sum256(token)
	return filepath.Join(j.dir, hex.EncodeToString(sum[:12])+tokenExt)
}

// Take returns the task tokens of the attempts a previous run of the
// worker left in the journal (it died while they ran) and empties it. Call
// it once at start, before the worker runs anything.
func (j *Journal) Take() ([][]byte, error) {
	paths, err := filepath.Glob(filepath.Join(j.dir, "*"+tokenExt))
	if err != nil {
		return nil, err
	}
	var tokens [][]byte
	for _, p := range paths {
		if token, err := os.ReadFile(p); err == nil && len(token) > 0 {
			tokens = append(tokens, token)
		}
		_ = os.Remove(p)
	}
	return tokens, nil
}

// Abandon fails, as RetryTypeAttemptAbandoned, the attempts of tokens
// (from Take), so that Temporal retries them now instead of after their
// heartbeat timeout. An attempt the server already closed or retried is
// not found, which is fine. It returns how many attempts it failed.
func Abandon(ctx context.Context, c client.Client, tokens [][]byte, log *slog.Logger) int {
	failed := 0
	for _, token := range tokens {
		err := abandon(ctx, c, token)
		var notFound *serviceerror.NotFound
		switch {
		case err == nil:
			failed++
		case errors.As(err, &notFound):
		default:
			log.Warn("fail an abandoned activity attempt", "error", err)
		}
	}
	return failed
}

// abandon fails the attempt of token.
func abandon(ctx context.Context, c client.Client, token []byte) error {
	ctx, cancel := context.WithTimeout(ctx, abandonTimeout)
	defer cancel()
	cause := contract.NewRetryableError(contract.RetryTypeAttemptAbandoned,
		"run activity attempt: the worker running it died; retrying on its restarted worker", nil)
	return c.CompleteActivity(ctx, token, nil, cause)
}

// Interceptor returns the worker interceptor that keeps the journal.
func (j *Journal) Interceptor() interceptor.WorkerInterceptor { return &journalInterceptor{j: j} }

type journalInterceptor struct {
	interceptor.WorkerInterceptorBase
	j *Journal
}

func (ji *journalInterceptor) InterceptActivity(_ context.Context,
	next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	in := &journalInbound{j: ji.j}
	in.Next = next
	return in
}

type journalInbound struct {
	interceptor.ActivityInboundInterceptorBase
	j *Journal
}

func (i *journalInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	token := activity.GetInfo(ctx).TaskToken
	p := i.j.entry(token)
	// Without its entry the attempt is still safe: a dead worker's attempt
	// then waits for its heartbeat timeout instead.
	if err := os.WriteFile(p+".new", token, 0o600); err == nil {
		_ = os.Rename(p+".new", p)
	}
	defer os.Remove(p)
	return i.Next.ExecuteActivity(ctx, in)
}
