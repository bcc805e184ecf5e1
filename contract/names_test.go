package contract

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// constants returns the string constants of this package whose names start
// with prefix, by name, read from the source so that new ones are covered.
func constants(t *testing.T, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range parseSources(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if lit, ok := valueAt(vs, i); ok && strings.HasPrefix(id.Name, prefix) {
					out[id.Name], _ = strconv.Unquote(lit.Value)
				}
			}
			return true
		})
	}
	require.NotEmpty(t, out, "no constants with prefix %s", prefix)
	return out
}

// parseSources parses the non-test Go files of this package.
func parseSources(t *testing.T) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
		require.NoError(t, err)
		files = append(files, f)
	}
	require.NotEmpty(t, files)
	return files
}

func valueAt(vs *ast.ValueSpec, i int) (*ast.BasicLit, bool) {
	if i >= len(vs.Values) {
		return nil, false
	}
	lit, ok := vs.Values[i].(*ast.BasicLit)
	return lit, ok && lit.Kind == token.STRING
}

func TestNames_WorkflowAndActivityNamesAreDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, prefix := range []string{"Workflow", "Activity"} {
		for name, value := range constants(t, prefix) {
			require.NotEmpty(t, value, name)
			if prev, dup := seen[prefix+value]; dup {
				t.Errorf("%s and %s are both registered as %q", prev, name, value)
			}
			seen[prefix+value] = name
		}
	}
}

func TestNonRetryableErrorTypes_ListsEveryErrType(t *testing.T) {
	listed := NonRetryableErrorTypes()
	declared := constants(t, "ErrType")
	for name, value := range declared {
		require.Contains(t, listed, value, "%s missing from NonRetryableErrorTypes", name)
	}
	require.Len(t, listed, len(declared), "NonRetryableErrorTypes has duplicates or strays")
}

func TestNodeTaskQueue_PerHost(t *testing.T) {
	require.Equal(t, "byokflow-node-host-a", NodeTaskQueue("host-a"))
	require.Equal(t, "byokflow-control", ControlTaskQueue)
	require.NotEqual(t, NodeTaskQueue("a"), NodeTaskQueue("b"))
}

func TestNodeAAD_BindsInstanceAndNode(t *testing.T) {
	a := NodeAAD("orders-db", "orders-db-1")
	require.Equal(t, []string{"byokflow-instance:orders-db", "byokflow-node:orders-db-1"}, a)
	require.NotEqual(t, a, NodeAAD("orders-db", "orders-db-2"))
	require.NotEqual(t, a, NodeAAD("orders-dc", "orders-db-1"))
}

func TestKeyState_Valid(t *testing.T) {
	want := []string{"pending", "active", "rewrap_required", "suspended", "unreachable", "destroyed", "error"}
	var got []string
	for _, s := range KeyStates() {
		require.True(t, s.Valid(), s)
		got = append(got, string(s))
	}
	require.Equal(t, want, got)
	require.False(t, KeyState("rotating").Valid())
	require.False(t, slices.Contains(KeyStates(), KeyState("")))
}

func TestErrorType_FindsTypeThroughWrapping(t *testing.T) {
	err := NewError(ErrTypeKeyNotFound, "validate root key k: not found", nil)
	require.Equal(t, ErrTypeKeyNotFound, ErrorType(err))
	require.Equal(t, ErrTypeKeyNotFound, ErrorType(fmt.Errorf("wrapped: %w", err)))
	require.Equal(t, "", ErrorType(errors.New("plain")))
	require.Equal(t, "", ErrorType(nil))

	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.True(t, appErr.NonRetryable())
}
