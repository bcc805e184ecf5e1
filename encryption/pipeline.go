package encryption

import (
	"crypto/cipher"
	"runtime"
	"sync"
	"sync/atomic"
)

// maxChunks is how many chunks a stream may have: the counter is 32 bits.
const maxChunks = 1 << 32

// jobsPerWorker is how many chunks a parallel batch gives each worker: 32
// (2 MiB) keeps the per-batch fork-join well under a fiftieth of the work;
// with 8, the hand-offs held two workers to about 1.4x one on this 2-core
// machine (bench: BenchmarkEncrypt/byokflow-parallel). A parallel stream
// holds 32 chunk buffers per worker (2 MiB each).
const jobsPerWorker = 32

// spinRounds bounds how long (about 10 to 30 µs) a helper polls for the
// next batch, and the caller for the helpers' end, before blocking. Batches
// follow each other closely when streaming from memory; polling then spares
// the wake-ups, which cost far more on small virtual machines.
const spinRounds = 100

// job is one chunk to seal or open. Its buffer is allocated once and reused,
// so that steady-state streaming allocates nothing per chunk.
type job struct {
	buf     []byte // owned, capacity encChunkSize
	src     []byte // input: buf[:n] (worked in place) or a caller's slice
	out     []byte // output, inside buf
	counter uint64
	last    bool
	failed  bool // open only: authentication failed
	nonce   [nonceSize]byte
}

func (j *job) run(aead cipher.AEAD, open bool, prefix *[noncePrefixSize]byte) {
	setNonce(&j.nonce, prefix, j.counter, j.last)
	if !open {
		j.out = aead.Seal(j.buf[:0], j.nonce[:], j.src, nil)
		return
	}
	out, err := aead.Open(j.buf[:0], j.nonce[:], j.src, nil)
	j.out, j.failed = out, err != nil
}

// pipeline seals or opens chunks and hands them back in submission order.
// Sequentially it works each chunk as it is submitted. In parallel it
// queues chunks until the oldest is needed, then works the whole queue as a
// batch, fork-join, on its helper goroutines and on the caller's own. Work
// happens only inside the caller's calls, so a chunk never outlives them.
// A pipeline is used by one goroutine.
type pipeline struct {
	open    bool
	prefix  [noncePrefixSize]byte
	aead    cipher.AEAD // the caller's
	helpers int         // 0: sequential
	start   chan *batch // to the helpers
	stop    *stopper
	bt      *batch
	free    []*job
	queue   []*job // in flight, a ring starting at head: worked jobs, then queued ones
	head, n int
	queued  int // the newest jobs in flight that are not worked yet
	counter uint64
}

// batch is the jobs of one fork-join round, taken in turn by index.
type batch struct {
	jobs    []*job
	next    atomic.Int64
	wg      sync.WaitGroup
	helping atomic.Int64 // helpers not done yet, polled before wg.Wait blocks
}

func (b *batch) runAll(aead cipher.AEAD, open bool, prefix *[noncePrefixSize]byte) {
	for {
		i := int(b.next.Add(1)) - 1
		if i >= len(b.jobs) {
			return
		}
		b.jobs[i].run(aead, open, prefix)
	}
}

// stopper ends the helpers once, from shutdown or from a cleanup when the
// pipeline's owner was dropped without closing it.
type stopper struct {
	once sync.Once
	ch   chan *batch
}

func (s *stopper) do() { s.once.Do(func() { close(s.ch) }) }

func newPipeline(key []byte, prefix [noncePrefixSize]byte, open bool, workers int) (*pipeline, error) {
	workers = max(workers, 1)
	nJobs := jobsPerWorker * workers
	if workers == 1 {
		nJobs = 1
	}
	p := &pipeline{open: open, prefix: prefix, helpers: workers - 1,
		free: make([]*job, 0, nJobs), queue: make([]*job, nJobs)}
	slab, jobs := make([]byte, nJobs*encChunkSize), make([]job, nJobs)
	for i := range jobs {
		jobs[i].buf = slab[i*encChunkSize : (i+1)*encChunkSize : (i+1)*encChunkSize]
		p.free = append(p.free, &jobs[i])
	}
	var err error
	if p.aead, err = newGCM(key); err != nil || p.helpers == 0 {
		return p, err
	}
	p.bt = &batch{jobs: make([]*job, 0, nJobs)}
	p.start = make(chan *batch, p.helpers) // a polling helper takes it without a hand-off
	p.stop = &stopper{ch: p.start}
	for range p.helpers {
		aead, err := newGCM(key)
		if err != nil {
			p.stop.do()
			return nil, err
		}
		go runHelper(aead, open, prefix, p.start)
	}
	runtime.AddCleanup(p, func(s *stopper) { s.do() }, p.stop)
	return p, nil
}

// runHelper must not reference the pipeline, so that a dropped pipeline can
// be collected and its cleanup can stop the helpers.
func runHelper(aead cipher.AEAD, open bool, prefix [noncePrefixSize]byte, start <-chan *batch) {
	for {
		b, ok := receive(start)
		if !ok {
			return
		}
		b.runAll(aead, open, &prefix)
		b.wg.Done() // before helping drops, so a caller that saw 0 never blocks
		b.helping.Add(-1)
	}
}

// receive returns the next batch, polling for it a while before blocking.
func receive(start <-chan *batch) (*batch, bool) {
	for range spinRounds {
		select {
		case b, ok := <-start:
			return b, ok
		default:
			runtime.Gosched()
		}
	}
	b, ok := <-start
	return b, ok
}

// acquire returns a free job, or nil when every job is in flight.
func (p *pipeline) acquire() *job {
	if len(p.free) == 0 {
		return nil
	}
	j := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	j.src = j.buf[:0]
	return j
}

// release returns a job taken by acquire or oldest.
func (p *pipeline) release(j *job) {
	j.src, j.out = nil, nil
	p.free = append(p.free, j)
}

// pending reports how many jobs are in flight.
func (p *pipeline) pending() int { return p.n }

// submit queues src as the next chunk, or works it at once in sequential
// mode. src must stay unchanged until the job comes back from oldest.
func (p *pipeline) submit(j *job, src []byte, last bool) error {
	if p.counter >= maxChunks {
		p.release(j)
		return errStreamTooLong
	}
	j.src, j.counter, j.last, j.failed = src, p.counter, last, false
	p.counter++
	p.queue[(p.head+p.n)%len(p.queue)] = j
	p.n++
	if p.helpers == 0 {
		j.run(p.aead, p.open, &p.prefix)
		return nil
	}
	p.queued++
	return nil
}

// oldest returns the oldest job in flight, worked, and removes it from the
// queue. There must be one.
func (p *pipeline) oldest() *job {
	if p.queued == p.n {
		p.work()
	}
	j := p.queue[p.head]
	p.queue[p.head] = nil
	p.head = (p.head + 1) % len(p.queue)
	p.n--
	return j
}

// work works every queued job, on the helpers and on the caller.
func (p *pipeline) work() {
	b := p.bt
	b.jobs = b.jobs[:0]
	for i := p.n - p.queued; i < p.n; i++ {
		b.jobs = append(b.jobs, p.queue[(p.head+i)%len(p.queue)])
	}
	p.queued = 0
	b.next.Store(0)
	if len(b.jobs) < 2 {
		b.runAll(p.aead, p.open, &p.prefix)
		return
	}
	b.wg.Add(p.helpers)
	b.helping.Store(int64(p.helpers))
	for range p.helpers {
		p.start <- b
	}
	// A helper that was blocked, just woken, waits in this P's run-next
	// slot, where an idle P may take it only after a delay; yielding runs it
	// here at once and lets the idle P pick up the caller instead.
	runtime.Gosched()
	b.runAll(p.aead, p.open, &p.prefix)
	for i := 0; i < spinRounds && b.helping.Load() > 0; i++ {
		runtime.Gosched()
	}
	b.wg.Wait()
}

// shutdown drops every job in flight and stops the helpers. The pipeline
// must not be used afterwards.
func (p *pipeline) shutdown() {
	for p.n > 0 {
		j := p.queue[p.head]
		p.queue[p.head] = nil
		p.head = (p.head + 1) % len(p.queue)
		p.n--
		p.release(j)
	}
	p.queued = 0
	if p.stop != nil {
		p.stop.do()
	}
}
