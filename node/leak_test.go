package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
)

// volumes are the loop volumes this test binary made, for the leak check
// of TestMain (other packages' tests make volumes at the same time).
var volumes struct {
	mu   sync.Mutex
	list []*fscrypttest.Vol
}

// testVolume makes a volume as fscrypttest.New does and remembers it.
func testVolume(t testing.TB, o fscrypttest.Options) *fscrypttest.Vol {
	t.Helper()
	v := fscrypttest.New(t, o)
	volumes.mu.Lock()
	volumes.list = append(volumes.list, v)
	volumes.mu.Unlock()
	return v
}

// TestMain fails the run when a test left a server, a mount or a loop
// device of one of its volumes behind.
func TestMain(m *testing.M) {
	code := m.Run()
	volumes.mu.Lock()
	defer volumes.mu.Unlock()
	for _, v := range volumes.list {
		if leaks := volumeLeaks(v); len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "test volume %s left behind: %s\n", v.Dir, strings.Join(leaks, "; "))
			code = 1
		}
	}
	os.Exit(code)
}

// volumeLeaks says what of v is still there: processes working in it, its
// mount, a loop device on its image.
func volumeLeaks(v *fscrypttest.Vol) []string {
	var leaks []string
	if pids := procsUnder(v.Dir); len(pids) > 0 {
		leaks = append(leaks, fmt.Sprintf("processes %v", pids))
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	if strings.Contains(string(mounts), " "+v.Dir+" ") {
		leaks = append(leaks, "still mounted")
	}
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, f := range files {
		if b, _ := os.ReadFile(f); strings.HasPrefix(string(b), v.Image) {
			leaks = append(leaks, "loop device "+filepath.Base(filepath.Dir(filepath.Dir(f)))+" attached")
		}
	}
	return leaks
}

// procsUnder lists the processes whose command line names dir or whose
// working directory is in it: a postmaster carries -D <data dir>, and
// every PostgreSQL process works in its data directory.
func procsUnder(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cwd, _ := os.Readlink("/proc/" + e.Name() + "/cwd")
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if within(cwd, dir) || strings.Contains(string(cmd), dir+"/") || strings.Contains(string(cmd), dir+"\x00") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func within(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// requireNoServer fails t if a process still works under dir, and kills
// it so that dir's volume can be unmounted.
func requireNoServer(t testing.TB, dir string) {
	t.Helper()
	pids := procsUnder(dir)
	if len(pids) == 0 {
		return
	}
	t.Errorf("processes %v still work under %s after the test: killing them", pids, dir)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for deadline := time.Now().Add(10 * time.Second); len(procsUnder(dir)) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
}
