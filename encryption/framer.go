package encryption

// framer cuts a byte stream into chunks of size bytes and feeds them to a
// pipeline. It holds back the newest complete chunk until more input shows
// that it is not the last one; finish submits it as the last. Results go to
// emit in order. The Writer frames plaintext (size ChunkSize), the Reader
// frames sealed chunks pushed by a source's WriteTo (size encChunkSize).
type framer struct {
	pl   *pipeline
	size int
	open bool
	asm  *job // chunk being assembled in an owned buffer, nil if none
	emit func([]byte) error
}

// write frames p. When p holds more than a chunk, whole chunks are worked
// straight from p without copying; write then works and emits them before
// it returns, so p is never retained. After an error the caller must shut
// the pipeline down, which drops chunks still pointing into p.
func (f *framer) write(p []byte) error {
	borrowed := false
	for len(p) > 0 {
		if f.asm != nil && len(f.asm.src) == f.size {
			// More input follows, so the held-back chunk is not the last.
			if err := f.submitAsm(false); err != nil {
				return err
			}
		}
		if f.asm == nil {
			j, err := f.acquire()
			if err != nil {
				return err
			}
			f.asm = j
		}
		if len(f.asm.src) == 0 && len(p) > f.size {
			j := f.asm
			f.asm = nil
			if err := f.submit(j, p[:f.size], false); err != nil {
				return err
			}
			p, borrowed = p[f.size:], true
			continue
		}
		n := copy(f.asm.buf[len(f.asm.src):f.size], p)
		f.asm.src = f.asm.buf[:len(f.asm.src)+n]
		p = p[n:]
	}
	if borrowed {
		return f.drain()
	}
	return nil
}

// finish submits the held-back chunk (an empty one if there was no input)
// as the last chunk and emits everything.
func (f *framer) finish() error {
	if f.asm == nil {
		j, err := f.acquire()
		if err != nil {
			return err
		}
		f.asm = j
	}
	if f.open {
		if err := checkLastChunk(len(f.asm.src), f.pl.counter); err != nil {
			return err
		}
	}
	if err := f.submitAsm(true); err != nil {
		return err
	}
	return f.drain()
}

func (f *framer) submitAsm(last bool) error {
	j := f.asm
	f.asm = nil
	return f.submit(j, j.src, last)
}

func (f *framer) submit(j *job, src []byte, last bool) error {
	err := f.pl.submit(j, src, last)
	if err != nil && f.open {
		return ErrAuthentication // no valid stream has that many chunks
	}
	return err
}

// acquire returns a free job, emitting the oldest results to make one free.
func (f *framer) acquire() (*job, error) {
	for {
		if j := f.pl.acquire(); j != nil {
			return j, nil
		}
		if err := emitOldest(f.pl, f.emit); err != nil {
			return nil, err
		}
	}
}

// drain emits every job in flight.
func (f *framer) drain() error {
	for f.pl.pending() > 0 {
		if err := emitOldest(f.pl, f.emit); err != nil {
			return err
		}
	}
	return nil
}

// emitOldest waits for the oldest job, passes its output to emit and frees it.
func emitOldest(pl *pipeline, emit func([]byte) error) error {
	j := pl.oldest()
	defer pl.release(j)
	if j.failed {
		return ErrAuthentication
	}
	return emit(j.out)
}

// checkLastChunk rejects a last sealed chunk shorter than a tag, and an
// empty last chunk after other chunks (writers never produce one).
func checkLastChunk(n int, counter uint64) error {
	if n < tagSize || (n == tagSize && counter > 0) {
		return ErrAuthentication
	}
	return nil
}
