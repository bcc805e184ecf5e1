package node

import "os"

// writebackEvery is how many bytes a backup file takes before the agent
// asks the kernel to start writing them to disk, so that the fsync at the
// end finds little left to do.
const writebackEvery = 8 << 20

// writebackFile is a backup file that starts the writeback of every
// writebackEvery bytes as they are written (where the platform can).
type writebackFile struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // bytes whose writeback was started
}

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackEvery {
		startWriteback(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}
