package outfile

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Options say how a File rotates and how much it may hold in memory.
// The zero value appends forever with a 32 MiB queue.
type Options struct {
	Name        string        // label in logs and metrics ("alerts"); default: the path
	RotateSize  int64         // rotate when the file reaches this size (0: never)
	RotateEvery time.Duration // rotate when the file is this old (0: never)
	Keep        int           // rotated files kept (0: all)
	Compress    string        // rotated files: "", "gzip" or "zstd"
	QueueBytes  int           // bound of the lines waiting to be written (0: 32 MiB)
	// Drain bounds how long Close keeps retrying a failing disk before it
	// drops (and counts) what is still queued (0: 10 s).
	Drain time.Duration
	// Retry is how often a failed write is retried (0: 1 s); it is also
	// the tick that checks age rotation and syncs the file.
	Retry time.Duration
	Logf  func(format string, args ...any) // nil: no logs
	Now   func() time.Time                 // wall clock for rotation (nil: time.Now)
}

// Stats are a File's counters since it was opened.
type Stats struct {
	Name         string
	Lines        uint64 // lines queued (written or still waiting)
	Errors       uint64 // failed writes (each retry counts)
	Dropped      uint64 // lines dropped: the queue was full, or Close gave up
	DroppedBytes uint64
	Rotations    uint64
	Reopens      uint64
	Queued       int64 // bytes waiting now
}

// File is an append-only JSON lines file written by its own goroutine.
// Write, Reopen, Stats and Close are safe for concurrent use.
type File struct {
	path string
	opt  Options

	mu      sync.Mutex
	pending []byte   // the caller's partial last line
	queue   [][]byte // whole lines, oldest first
	queued  int
	closed  bool

	kick, reopen chan struct{}
	closing      chan struct{}
	done         chan struct{}

	lines, errs, dropped, droppedBytes, rotations, reopens atomic.Uint64
	queuedBytes                                            atomic.Int64

	// The writer goroutine's own.
	f        *os.File
	size     int64
	opened   time.Time
	partial  bool // the file ends inside a line (a short write)
	wantOpen bool // Reopen asked while partial
	failing  error
	dirty    bool
	bg       sync.WaitGroup // compression
}

// Open repairs path (see Repair), opens it for append, creating it, and
// starts the writer.
func Open(path string, opt Options) (*File, error) {
	if opt.Name == "" {
		opt.Name = path
	}
	if opt.QueueBytes <= 0 {
		opt.QueueBytes = 32 << 20
	}
	if opt.Drain <= 0 {
		opt.Drain = 10 * time.Second
	}
	if opt.Retry <= 0 {
		opt.Retry = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	switch opt.Compress {
	case "", "gzip", "zstd":
	default:
		return nil, fmt.Errorf("%s: compression %q: want gzip or zstd", opt.Name, opt.Compress)
	}
	n, err := Repair(path)
	if err != nil {
		return nil, err
	}
	if n > 0 && opt.Logf != nil {
		opt.Logf("%s: a torn last line (%d bytes, left by a crash) was moved to %s", opt.Name, n, path+TornSuffix)
	}
	f := &File{path: path, opt: opt, kick: make(chan struct{}, 1), reopen: make(chan struct{}, 1),
		closing: make(chan struct{}), done: make(chan struct{})}
	if err := f.open(); err != nil {
		return nil, err
	}
	go f.run()
	return f, nil
}

// Path is the file's name.
func (f *File) Path() string { return f.path }

// Write queues the whole lines in p and keeps a trailing partial line for
// the next Write. It never blocks on the disk and never fails: lines that
// do not fit in the queue are dropped and counted.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return 0, os.ErrClosed
	}
	f.pending = append(f.pending, p...)
	i := bytes.LastIndexByte(f.pending, '\n')
	if i < 0 {
		f.mu.Unlock()
		return len(p), nil
	}
	whole := f.pending[:i+1]
	n := uint64(bytes.Count(whole, []byte{'\n'}))
	f.lines.Add(n)
	if f.queued+len(whole) > f.opt.QueueBytes {
		f.dropped.Add(n)
		f.droppedBytes.Add(uint64(len(whole)))
	} else {
		f.queue = append(f.queue, bytes.Clone(whole))
		f.queued += len(whole)
		f.queuedBytes.Store(int64(f.queued))
	}
	f.pending = append(f.pending[:0], f.pending[i+1:]...)
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Reopen closes and reopens the path once the lines queued before it are
// written (logrotate renames the file, then asks for a reopen): the old
// file gets everything before, the new one everything after.
func (f *File) Reopen() {
	select {
	case f.reopen <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (f *File) Stats() Stats {
	return Stats{Name: f.opt.Name, Lines: f.lines.Load(), Errors: f.errs.Load(), Dropped: f.dropped.Load(),
		DroppedBytes: f.droppedBytes.Load(), Rotations: f.rotations.Load(), Reopens: f.reopens.Load(),
		Queued: f.queuedBytes.Load()}
}

// Close writes what is queued (retrying a failing disk for up to
// Options.Drain, then dropping and counting the rest), syncs and closes
// the file, and waits for compression of rotated files.
func (f *File) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		<-f.done
		return nil
	}
	f.closed = true
	f.mu.Unlock()
	close(f.closing)
	<-f.done
	f.bg.Wait()
	if d := f.dropped.Load(); d > 0 && f.opt.Logf != nil {
		f.opt.Logf("%s: %d line(s) (%d bytes) could not be written and were dropped", f.opt.Name, d, f.droppedBytes.Load())
	}
	if f.failing != nil {
		return fmt.Errorf("%s: %w", f.opt.Name, f.failing)
	}
	return nil
}

func (f *File) logf(format string, args ...any) {
	if f.opt.Logf != nil {
		f.opt.Logf(format, args...)
	}
}

func (f *File) open() error {
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open %s: %w", f.path, err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return fmt.Errorf("open %s: %w", f.path, err)
	}
	f.f, f.size, f.opened, f.partial = file, st.Size(), f.opt.Now(), false
	return nil
}

// run is the writer goroutine.
func (f *File) run() {
	defer close(f.done)
	t := time.NewTicker(f.opt.Retry)
	defer t.Stop()
	for {
		select {
		case <-f.kick:
		case <-f.reopen:
			f.wantOpen = true
		case <-t.C:
			f.sync()
			f.maybeRotate(true)
		case <-f.closing:
			f.drain()
			return
		}
		f.flush()
	}
}

// flush writes the queue until it is empty or a write fails.
func (f *File) flush() {
	if f.wantOpen && !f.partial {
		f.flush1() // what was queued before the request goes to the old file
		if !f.partial {
			f.doReopen()
		}
	}
	f.flush1()
}

func (f *File) flush1() {
	for {
		f.mu.Lock()
		if len(f.queue) == 0 {
			f.mu.Unlock()
			return
		}
		chunk := f.queue[0]
		f.mu.Unlock()
		n, err := f.f.Write(chunk)
		f.mu.Lock()
		f.queue[0] = chunk[n:]
		if n == len(chunk) {
			f.queue[0] = nil
			f.queue = f.queue[1:]
		}
		f.queued -= n
		f.queuedBytes.Store(int64(f.queued))
		f.mu.Unlock()
		if n > 0 {
			f.size += int64(n)
			f.dirty = true
			f.partial = chunk[n-1] != '\n'
		}
		if err != nil {
			f.errs.Add(1)
			if f.failing == nil {
				f.logf("%s: %v; holding up to %d bytes of lines in memory until it can be written", f.opt.Name, err, f.opt.QueueBytes)
			}
			f.failing = err
			return
		}
		if f.failing != nil {
			f.logf("%s: writing to %s again after %d failed write(s)", f.opt.Name, f.path, f.errs.Load())
			f.failing = nil
		}
		f.maybeRotate(false)
	}
}

// drain writes what is queued at Close, retrying for up to Options.Drain.
func (f *File) drain() {
	deadline := time.Now().Add(f.opt.Drain)
	for {
		f.flush()
		f.mu.Lock()
		left := len(f.queue)
		f.mu.Unlock()
		if left == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(min(f.opt.Retry, 100*time.Millisecond))
	}
	f.mu.Lock()
	for _, c := range f.queue {
		f.dropped.Add(uint64(bytes.Count(c, []byte{'\n'})))
		f.droppedBytes.Add(uint64(len(c)))
	}
	if len(f.pending) > 0 { // no newline: not a line
		f.dropped.Add(1)
		f.droppedBytes.Add(uint64(len(f.pending)))
	}
	f.queue, f.queued, f.pending = nil, 0, nil
	f.queuedBytes.Store(0)
	f.mu.Unlock()
	if err := f.f.Sync(); err != nil && f.failing == nil {
		f.failing = err
	}
	if err := f.f.Close(); err != nil && f.failing == nil {
		f.failing = err
	}
}

func (f *File) sync() {
	if f.dirty {
		if err := f.f.Sync(); err == nil {
			f.dirty = false
		}
	}
}

func (f *File) doReopen() {
	old := f.f
	if err := f.open(); err != nil { // f.f is still the old file
		f.errs.Add(1)
		if f.failing == nil {
			f.logf("%s: reopen: %v; writing on to the old file, retrying", f.opt.Name, err)
		}
		f.failing = err
		return
	}
	f.wantOpen = false
	f.reopens.Add(1)
	old.Sync()
	old.Close()
}
