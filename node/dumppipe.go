package node

import (
	"io"
	"sync"
	"sync/atomic"
)

const (
	// pipeBuffers is how many buffers circulate between a pipe's producer
	// and its writer goroutine in steady state.
	pipeBuffers = 4
	// pipeHoldBuffers is how many buffers a pipe may grow to while its
	// writer waits for a late block, so the producer runs ahead meanwhile
	// (the COPY of the first rows overlaps with pg_dump).
	pipeHoldBuffers = 32
	// pipeQueue bounds the blocks in flight, pooled or not.
	pipeQueue = 2 * pipeHoldBuffers
)

// late is the content of a block that was queued before it was known.
type late struct {
	b   []byte
	err error
}

// block is one piece of the output on its way to the writer goroutine.
// Pooled blocks are buffers that go back to the producer; a block with
// later is written once later delivers its bytes.
type block struct {
	b      []byte
	pooled bool
	later  <-chan late
}

// pipe hands bytes, in order, to a goroutine that writes them to dst, so
// that the producer (a COPY reading rows, or the sealing of the stream)
// overlaps with the consumer (sealing, hashing, writing the file). The
// producer waits for a free buffer, so memory stays bounded: pipeBuffers
// buffers, or up to pipeHoldBuffers while a late block is pending.
type pipe struct {
	dst     io.Writer
	size    int
	queue   chan block
	free    chan []byte
	done    chan struct{}
	once    sync.Once
	holding atomic.Bool  // a late block is queued and not yet delivered
	extra   atomic.Int32 // buffers allocated beyond pipeBuffers
	mu      sync.Mutex
	err     error // the writer goroutine's first error
}

func newPipe(dst io.Writer, bufSize int) *pipe {
	p := &pipe{dst: dst, size: bufSize, queue: make(chan block, pipeQueue),
		free: make(chan []byte, pipeHoldBuffers), done: make(chan struct{})}
	for range pipeBuffers {
		p.free <- make([]byte, 0, bufSize)
	}
	go p.run()
	return p
}

// run writes the queued blocks; after an error it only drains them.
func (p *pipe) run() {
	defer close(p.done)
	for blk := range p.queue {
		b := blk.b
		if blk.later != nil {
			r := <-blk.later
			p.holding.Store(false)
			b = r.b
			p.setErr(r.err)
		}
		if p.failed() == nil && len(b) > 0 {
			_, err := p.dst.Write(b)
			p.setErr(err)
		}
		if blk.pooled {
			p.recycle(blk.b)
		}
	}
}

// recycle returns a buffer to the producer, or drops a surplus one once
// no late block is pending.
func (p *pipe) recycle(b []byte) {
	if !p.holding.Load() && p.extra.Load() > 0 {
		p.extra.Add(-1)
		return
	}
	p.free <- b[:0]
}

func (p *pipe) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

// failed returns the writer goroutine's error so far.
func (p *pipe) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// send queues blk and returns the writer's error so far.
func (p *pipe) send(blk block) error {
	if blk.later != nil {
		p.holding.Store(true)
	}
	p.queue <- blk
	return p.failed()
}

// buffer returns a free buffer (empty, of the pipe's size), allocating
// one while a late block holds the writer up, else waiting for one.
func (p *pipe) buffer() []byte {
	select {
	case b := <-p.free:
		return b
	default:
	}
	if p.holding.Load() && p.extra.Load() < pipeHoldBuffers-pipeBuffers {
		p.extra.Add(1)
		return make([]byte, 0, p.size)
	}
	return <-p.free
}

// close waits until everything queued is written and returns the first
// error. It may be called more than once.
func (p *pipe) close() error {
	p.once.Do(func() { close(p.queue) })
	<-p.done
	return p.failed()
}
