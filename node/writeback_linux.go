package node

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writing dirty pages
// of the range, without waiting for them.
const syncFileRangeWrite = 2

// startWriteback starts the writeback of n bytes of f at off. It is a
// hint: errors are left to the fsync that follows.
func startWriteback(f *os.File, off, n int64) {
	_ = syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
