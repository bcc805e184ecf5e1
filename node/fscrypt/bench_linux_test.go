package fscrypt_test

import (
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
	"golang.org/x/sys/unix"
)

// benchSize is what each benchmark iteration writes or reads: enough to get
// past the caches' and the journal's first gulp.
const benchSize = 64 << 20

// The benchmarks compare, on one loop volume and in one run, a plain
// directory, an fscrypt directory and (when installed) a gocryptfs mount
// over a directory of the same volume:
//
//	go test -run '^$' -bench . -benchtime 3x ./node/fscrypt/

// BenchmarkWrite writes benchSize bytes sequentially and fsyncs them.
func BenchmarkWrite(b *testing.B) {
	forEachStorage(b, func(b *testing.B, dir string) {
		buf := randomBlock(b)
		b.SetBytes(benchSize)
		b.ResetTimer()
		for range b.N {
			writeFile(b, filepath.Join(dir, "bench"), buf)
		}
	})
}

// BenchmarkRead reads benchSize bytes sequentially from disk (the page
// cache is dropped before each iteration).
func BenchmarkRead(b *testing.B) {
	forEachStorage(b, func(b *testing.B, dir string) {
		path := filepath.Join(dir, "bench")
		writeFile(b, path, randomBlock(b))
		buf := make([]byte, 1<<20)
		b.SetBytes(benchSize)
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			fscrypttest.DropCaches(b)
			b.StartTimer()
			readFile(b, path, buf)
		}
	})
}

func forEachStorage(b *testing.B, bench func(b *testing.B, dir string)) {
	vol := fscrypttest.Volume(b, 1024)
	plain := filepath.Join(vol, "plain")
	if err := os.Mkdir(plain, 0o700); err != nil {
		b.Fatal(err)
	}
	encrypted, _, _ := encryptedDir(b, vol, "fscrypt")
	// Set up here, once: a sub-benchmark's cleanups run after each round.
	peer := gocryptfs(b, vol)
	b.Run("plain", func(b *testing.B) { bench(b, plain) })
	b.Run("fscrypt", func(b *testing.B) { bench(b, encrypted) })
	b.Run("gocryptfs", func(b *testing.B) {
		if peer == "" {
			b.Skip("gocryptfs peer skipped: needs gocryptfs and fusermount (apt-get install -y gocryptfs fuse3)")
		}
		bench(b, peer)
	})
}

// gocryptfs mounts a gocryptfs file system over a fresh directory of vol for
// the rest of b; it returns "" when gocryptfs or fusermount is missing.
func gocryptfs(b *testing.B, vol string) string {
	for _, tool := range []string{"gocryptfs", "fusermount"} {
		if _, err := exec.LookPath(tool); err != nil {
			return ""
		}
	}
	cipher, mnt, pass := filepath.Join(vol, "gocryptfs"), filepath.Join(vol, "gocryptfs-mnt"), filepath.Join(vol, "gocryptfs-pass")
	for _, d := range []string{cipher, mnt} {
		if err := os.Mkdir(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(pass, []byte("benchmark\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("gocryptfs", "-init", "-q", "-scryptn", "10", "-passfile", pass, cipher).CombinedOutput(); err != nil {
		b.Fatalf("gocryptfs -init: %v: %s", err, out)
	}
	cmd := exec.Command("gocryptfs", "-fg", "-q", "-passfile", pass, cipher, mnt)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// The volume's cleanup runs after this one: unmount first.
	b.Cleanup(func() { unmountFuse(b, mnt, cmd) })
	waitFuse(b, mnt, &stderr)
	return mnt
}

func waitFuse(b *testing.B, mnt string, stderr *strings.Builder) {
	for range 100 {
		var st unix.Statfs_t
		if unix.Statfs(mnt, &st) == nil && st.Type == unix.FUSE_SUPER_MAGIC {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("gocryptfs did not mount %s within 5 s: %s", mnt, stderr)
}

func unmountFuse(b *testing.B, mnt string, cmd *exec.Cmd) {
	if out, err := exec.Command("fusermount", "-u", mnt).CombinedOutput(); err != nil {
		b.Errorf("unmount gocryptfs %s: %v: %s", mnt, err, out)
		cmd.Process.Kill()
	}
	cmd.Wait()
}

func randomBlock(b *testing.B) []byte {
	buf := make([]byte, 1<<20)
	if _, err := rand.Read(buf); err != nil {
		b.Fatal(err)
	}
	return buf
}

func writeFile(b *testing.B, path string, block []byte) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	for n := 0; n < benchSize; n += len(block) {
		if _, err := f.Write(block); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func readFile(b *testing.B, path string, buf []byte) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
	if err != nil || n != benchSize {
		b.Fatalf("read %d bytes of %d: %v", n, benchSize, err)
	}
}
