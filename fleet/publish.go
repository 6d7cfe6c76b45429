package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
)

// PublisherOptions configure a Publisher. Sensor is required.
type PublisherOptions struct {
	Observer *output.Observer // Observer.Name is the sensor's subject token
	Run      string           // this run's id (default NewRunID())
	// Window is how many messages may await the broker's acknowledgement
	// at once (default 1024).
	Window int
	// Spool, when set, holds the unacknowledged messages on disk; without
	// one they are held in memory, at most MemoryMax per kind (default
	// 65536), and a producer waits at the cap.
	Spool     *Spool
	MemoryMax int
	// Compress, when set, sends each message compressed with S2 (its
	// header Content-Encoding: s2): an eighth of the bytes for the broker
	// to store and the collector to fetch.
	Compress bool
	// AckTimeout is how long an acknowledgement may take before the
	// message is sent again (default 5s).
	AckTimeout time.Duration
	Logf       func(format string, args ...any)
}

// Publisher sends a sensor's alerts and events to the fleet's stream, at
// least once: each message is queued (in memory or in the spool) until the
// broker acknowledges it, sent asynchronously within a bounded window,
// and sent again after a failure; its Nats-Msg-Id lets the server drop
// the copies. Put is called by one goroutine (the pipeline's merger); Run
// sends.
type Publisher struct {
	opt    PublisherOptions
	nc     *nats.Conn
	js     jetstream.JetStream
	sensor string
	subj   [numKinds]string
	stream [2]string // StreamID of this run, per kind
	q      [2]queue  // KindAlert, KindEvent
	seq    [2]uint64
	hbSeq  atomic.Uint64

	wake chan struct{} // something was put
	// gathered counts the bytes put since the sender last took what was
	// queued; at a pack's worth, got ends its wait for more.
	gathered atomic.Int64
	got      chan struct{}
	closing  chan struct{} // no more puts: send what is queued and return
	abandon  chan struct{} // stop now, leave the rest queued
	done     chan struct{}
	once     sync.Once

	resBuf []byte // ReportFlow's line, reused
	// slab, per kind, holds the lines Put copies, each followed by a
	// newline: a pack of consecutive lines is then one slice of it. With
	// the memory queue, a full slab is reused once the broker has
	// acknowledged its lines (slabMu guards full and free); the spool
	// copies what it is given, so its slab is reused at once.
	slab   [2][]byte
	slabMu sync.Mutex
	full   [2][]fullSlab
	free   [][]byte

	acked, retries atomic.Uint64
	flying         [2]atomic.Int64 // records in compressed packs not acknowledged (retain)
	oversize       atomic.Uint64   // records too large to send
}

// NewPublisher returns a Publisher on nc; Run sends.
func NewPublisher(nc *nats.Conn, opt PublisherOptions) (*Publisher, error) {
	if opt.Observer == nil || opt.Observer.Name == "" {
		return nil, errors.New("publish: no sensor name")
	}
	if opt.Run == "" {
		opt.Run = NewRunID()
	}
	if opt.Window <= 0 {
		opt.Window = 1024
	}
	if opt.MemoryMax <= 0 {
		opt.MemoryMax = 65536
	}
	if opt.AckTimeout <= 0 {
		opt.AckTimeout = 5 * time.Second
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(opt.Window),
		jetstream.WithPublishAsyncTimeout(opt.AckTimeout))
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	p := &Publisher{opt: opt, nc: nc, js: js, sensor: opt.Observer.Name,
		wake: make(chan struct{}, 1), got: make(chan struct{}, 1), closing: make(chan struct{}), abandon: make(chan struct{}), done: make(chan struct{})}
	for k := range numKinds {
		p.subj[k] = Subject(p.sensor, k)
	}
	for _, k := range []Kind{KindAlert, KindEvent} {
		p.stream[k] = StreamID(p.sensor, opt.Run, k)
	}
	if opt.Spool != nil {
		p.q[KindAlert], p.q[KindEvent] = opt.Spool.queue(KindAlert), opt.Spool.queue(KindEvent)
	} else {
		p.q[KindAlert], p.q[KindEvent] = newMemQueue(opt.MemoryMax), newMemQueue(opt.MemoryMax)
	}
	return p, nil
}

// Put queues one line (an ECS JSON object, with or without its newline)
// of kind k (KindAlert or KindEvent). line is copied.
func (p *Publisher) Put(k Kind, line []byte) error {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if len(line) > maxRecord {
		p.oversize.Add(1)
		p.opt.Logf("publish: a %s of %d bytes is over the %d a message may hold: not sent (it is in the sensor's own file)", k, len(line), maxRecord)
		return nil
	}
	p.seq[k]++
	slab := p.slab[k]
	if p.opt.Spool != nil {
		slab = slab[:0]
	}
	if cap(slab)-len(slab) < len(line)+1 {
		slab = p.newSlab(k, slab, len(line)+1)
	}
	start := len(slab)
	slab = append(append(slab, line...), '\n')
	p.slab[k] = slab
	m := Msg{Kind: k, Stream: p.stream[k], Seq: p.seq[k], Data: slab[start : start+len(line)]}
	if err := p.q[k].Put(m); err != nil {
		return err
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	if n := int64(len(line) + 1); crossed(p.gathered.Add(n), n, fullPack) {
		select {
		case p.got <- struct{}{}:
		default:
		}
	}
	return nil
}

// Run sends queued messages until Close (then until the queues are empty)
// or abandonment. It keeps up to Window messages awaiting acknowledgement
// (alerts before events), takes them off their queue as their
// acknowledgements come, in order (or, compressed without a spool, as
// they are packed, keeping the packs), and after a failure, or when the
// broker comes back, sends everything unacknowledged again first. While
// the broker cannot be reached it sends nothing. It returns nil.
func (p *Publisher) Run() error {
	defer close(p.done)
	type flight struct {
		kind  Kind
		first uint64 // the number of its first record
		n     int    // records packed in it
		fut   jetstream.PubAckFuture
		msg   *nats.Msg // retain: the pack as sent, to send again
		id    string
		chunk *keptChunk // retain: the slab msg's data is in
	}
	// Without a spool, a compressed pack is kept instead of its records:
	// they leave the queue (and their slab is reused) as soon as they are
	// packed, and the pack, a fraction of their size, waits for the
	// broker. Memory new to the process is dear (a page fault a page),
	// and records that wait for a broker starved of the sensor's cores
	// would need a great deal of it.
	retain := p.opt.Spool == nil && p.opt.Compress
	var (
		inflight []flight
		next     [2]uint64 // per kind: the number of the next record to send
		// redo holds, per kind, the packs that were in flight at a
		// failure: they are sent again with the same records (the same
		// Nats-Msg-Id), so the broker drops those it already stored.
		redo    [2][]flight
		again   []flight // retain: packs to send again, oldest first
		batch   = make([]Msg, 0, packLines)
		joined  []byte     // a pack's records, when they are not adjacent
		zbuf    []byte     // a pack compressed
		kept    *keptChunk // retain: the slab the packs kept are copied into
		closing bool
		backoff = 100 * time.Millisecond
	)
	// requeue makes what is in flight the next to send, again, in order:
	// the packs in flight come first; the ones still to send again after
	// an earlier failure follow.
	requeue := func() {
		if retain {
			again = append(append([]flight(nil), inflight...), again...)
			inflight = inflight[:0]
		}
		for _, k := range []Kind{KindAlert, KindEvent} {
			var spans []flight
			for _, f := range inflight {
				if f.kind == k {
					spans = append(spans, flight{kind: k, first: f.first, n: f.n})
				}
			}
			redo[k] = append(spans, redo[k]...)
		}
		inflight, next = inflight[:0], [2]uint64{} // from the oldest unacknowledged
	}
	fail := func(err error) bool {
		p.opt.Logf("publish: %v (sent again)", err)
		p.retries.Add(1)
		requeue()
		select {
		case <-time.After(backoff):
		case <-p.abandon:
			return false
		}
		backoff = min(2*backoff, 2*time.Second)
		return true
	}
	// Lines come in bursts (an output buffer, a batch of frames): a
	// moment's wait sends a burst in a few writes instead of a message
	// at a time, and leaves the pipeline's cores to the pipeline. The
	// wait ends early once a full pack has gathered: the lines wait in
	// memory, and memory that a long wait makes the queue take for the
	// first time costs a page fault a page.
	coalesce := func() {
		if closing {
			return
		}
		t := time.NewTimer(coalesceWait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.got:
		case <-p.closing: // the run is over: what is queued goes now
			closing = true
		case <-p.abandon:
		}
		p.gathered.Store(0)
		select {
		case <-p.got: // a signal that came as the wait ended
		default:
		}
	}
	for {
		select {
		case <-p.abandon:
			return nil
		case <-p.closing:
			closing = true
		default:
		}
		if !p.nc.IsConnected() {
			if !p.awaitBroker() {
				return nil // abandoned
			}
			// What was in flight when the broker went may never be
			// acknowledged: it goes first, before anything newer, so the
			// stream keeps the order (a copy the broker has is dropped).
			requeue()
		}
		// Fill the window, a pack of records per message: first the
		// packs kept to send again.
		failed := false
		for len(again) > 0 && len(inflight) < p.opt.Window {
			f := again[0]
			fut, err := p.js.PublishMsgAsync(f.msg, jetstream.WithMsgID(f.id), jetstream.WithRetryAttempts(0))
			if err != nil {
				failed = true
				if !fail(err) {
					return nil
				}
				break
			}
			f.fut = fut
			again = again[1:]
			inflight = append(inflight, f)
		}
		if failed {
			continue
		}
	fill:
		for _, k := range []Kind{KindAlert, KindEvent} {
			for len(inflight) < p.opt.Window {
				var err error
				if batch, err = p.q[k].Peek(batch[:0], next[k], packLines); err != nil {
					p.opt.Logf("publish: spool: %v", err)
				}
				if len(batch) == 0 {
					break
				}
				limit := len(batch)
				for len(redo[k]) > 0 && redo[k][0].first < batch[0].Num {
					redo[k] = redo[k][1:] // acknowledged, or dropped by the spool
				}
				if len(redo[k]) > 0 && redo[k][0].first == batch[0].Num {
					limit = min(limit, redo[k][0].n)
				} else {
					redo[k] = redo[k][:0]
				}
				var m *nats.Msg
				var n int
				most := packBytes(p.nc.MaxPayload(), p.opt.Compress)
				m, n, joined = pack(p.subj[k], batch[:limit], most, joined)
				if p.opt.Compress {
					// The client copies the message into its buffer before
					// PublishMsgAsync returns, and does not send it again by
					// itself (no retry attempts: a failure comes back here and
					// the pack is made again from the queue, or sent again
					// from its own copy), so zbuf and joined serve the next
					// pack.
					if s2.MaxEncodedLen(len(m.Data)) > cap(zbuf) {
						zbuf = make([]byte, s2.MaxEncodedLen(max(len(m.Data), most)))
					}
					zbuf = s2.Encode(zbuf[:cap(zbuf)], m.Data)
					m.Data = zbuf
					if retain {
						m.Data, kept = p.keep(kept, zbuf)
					}
					m.Header = nats.Header{ContentEncoding: []string{EncodingS2}}
				}
				id := packID(&batch[0], n)
				f, err := p.js.PublishMsgAsync(m, jetstream.WithMsgID(id), jetstream.WithRetryAttempts(0))
				if err != nil {
					failed = true
					if !fail(err) {
						return nil
					}
					break fill
				}
				if len(redo[k]) > 0 {
					redo[k] = redo[k][1:] // in flight again
				}
				fl := flight{kind: k, first: batch[0].Num, n: n, fut: f}
				next[k] = batch[0].Num + uint64(n)
				if retain {
					fl.msg, fl.id, fl.chunk = m, id, kept
					p.flying[k].Add(int64(n))
					_ = p.q[k].Ack(next[k]) // the memory queue: no error
					p.ackedSlabs(k, next[k])
				}
				inflight = append(inflight, fl)
			}
		}
		if failed {
			continue
		}
		if len(inflight) == 0 {
			if closing {
				return nil // closing was seen before the queues were found empty
			}
			select {
			case <-p.wake:
				coalesce()
			case <-p.closing:
				closing = true
			case <-p.abandon:
				return nil
			}
			continue
		}
		// Wait for the oldest; take every acknowledgement that is in.
		var wake chan struct{}
		if len(inflight) < p.opt.Window {
			wake = p.wake
		}
		select {
		case <-inflight[0].fut.Ok():
		case err := <-inflight[0].fut.Err():
			if !fail(err) {
				return nil
			}
			continue
		case <-wake:
			coalesce()
			continue
		case <-p.abandon:
			return nil
		}
		// An acknowledgement is received once: the head's is taken.
		var upTo [2]uint64
		var flown [2]int64
		upTo[inflight[0].kind] = inflight[0].first + uint64(inflight[0].n)
		flown[inflight[0].kind] += int64(inflight[0].n)
		records := inflight[0].n
		p.unkeep(inflight[0].chunk)
		n := 1
	done:
		for ; n < len(inflight); n++ {
			f := &inflight[n]
			select {
			case <-f.fut.Ok():
				upTo[f.kind] = f.first + uint64(f.n)
				flown[f.kind] += int64(f.n)
				records += f.n
				p.unkeep(f.chunk)
			default:
				break done
			}
		}
		clear(inflight[copy(inflight, inflight[n:]):])
		inflight = inflight[:len(inflight)-n]
		if retain {
			for k, c := range flown {
				p.flying[k].Add(-c)
			}
			upTo = [2]uint64{} // the records left their queue when packed
		}
		for k, to := range upTo {
			if to > 0 {
				if err := p.q[k].Ack(to); err != nil {
					p.opt.Logf("publish: spool: %v", err)
				}
				if p.opt.Spool == nil {
					p.ackedSlabs(Kind(k), to)
				}
			}
		}
		p.acked.Add(uint64(records))
		backoff = 100 * time.Millisecond
	}
}

// awaitBroker waits, without sending, while the broker cannot be reached
// (the connection keeps trying; what is queued waits in the spool or in
// memory); it says so once. It returns false if the run is abandoned.
func (p *Publisher) awaitBroker() bool {
	where := "in memory"
	if p.opt.Spool != nil {
		where = "in the spool " + p.opt.Spool.Dir()
	}
	a, e := p.Pending()
	p.opt.Logf("publish: broker not reachable: %d alert(s) and %d event(s) wait %s", a, e, where)
	if !untilConnected(p.nc, p.abandon) {
		return false
	}
	p.opt.Logf("publish: broker reachable again: sending")
	return true
}

// slabSize is the size of the slabs Put copies lines into. Up to
// maxFreeSlabs are kept for reuse: memory touched for the first time costs
// a page fault a page, far more than the copy itself (a 2-core VM here:
// 15 MB copied into new slabs took 53 ms, into reused ones 0.6 ms).
const (
	slabSize     = 1 << 20
	maxFreeSlabs = 4
)

// fullSlab is a slab of the memory queue that holds lines up to the one
// numbered last.
type fullSlab struct {
	buf  []byte
	last uint64
}

// newSlab returns an empty slab for at least n bytes, after old (the
// slab of kind k that is full) is set aside until its lines are
// acknowledged.
func (p *Publisher) newSlab(k Kind, old []byte, n int) []byte {
	p.slabMu.Lock()
	defer p.slabMu.Unlock()
	if p.opt.Spool == nil && len(old) > 0 {
		// The memory queue numbers the lines of kind k from 0: the last
		// line put is number seq-2, this one seq-1.
		p.full[k] = append(p.full[k], fullSlab{old, p.seq[k] - 2})
	}
	return p.takeSlab(n)
}

// takeSlab returns an empty slab for at least n bytes, a free one when
// it can. slabMu is held.
func (p *Publisher) takeSlab(n int) []byte {
	if n <= slabSize && len(p.free) > 0 {
		b := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		return b[:0]
	}
	return make([]byte, 0, max(slabSize, n))
}

// freeSlab keeps b for reuse, if there is room. slabMu is held.
func (p *Publisher) freeSlab(b []byte) {
	if len(p.free) < maxFreeSlabs && cap(b) == slabSize {
		p.free = append(p.free, b)
	}
}

// ackedSlabs frees the slabs of kind k whose lines are all numbered below upTo.
func (p *Publisher) ackedSlabs(k Kind, upTo uint64) {
	p.slabMu.Lock()
	defer p.slabMu.Unlock()
	n := 0
	for _, f := range p.full[k] {
		if f.last >= upTo {
			break
		}
		p.freeSlab(f.buf)
		n++
	}
	p.full[k] = p.full[k][:copy(p.full[k], p.full[k][n:])]
}

// keptChunk is a slab that compressed packs kept to send again are
// copied into; it is free again once it is full and the last of its
// packs is acknowledged (the packs of a run are acknowledged in the order
// they were made, so the slabs cycle).
type keptChunk struct {
	buf    []byte
	refs   int  // its packs not acknowledged yet
	sealed bool // full: no pack goes in any more
}

// keep copies pack into c, or into a new chunk when it does not fit
// (sealing c), and returns the copy and the chunk it is in.
func (p *Publisher) keep(c *keptChunk, pack []byte) ([]byte, *keptChunk) {
	if c == nil || cap(c.buf)-len(c.buf) < len(pack) {
		p.slabMu.Lock()
		defer p.slabMu.Unlock()
		if c != nil {
			c.sealed = true
			p.releaseKept(c)
		}
		c = &keptChunk{buf: p.takeSlab(len(pack))}
	}
	start := len(c.buf)
	c.buf = append(c.buf, pack...)
	c.refs++
	return c.buf[start:len(c.buf):len(c.buf)], c
}

// unkeep says that a pack kept in c (nil: none was) is acknowledged.
func (p *Publisher) unkeep(c *keptChunk) {
	if c == nil {
		return
	}
	p.slabMu.Lock()
	defer p.slabMu.Unlock()
	c.refs--
	p.releaseKept(c)
}

// releaseKept frees c's slab once it is sealed and its packs are all
// acknowledged. slabMu is held.
func (p *Publisher) releaseKept(c *keptChunk) {
	if c.sealed && c.refs == 0 && c.buf != nil {
		p.freeSlab(c.buf)
		c.buf = nil
	}
}

// reserve returns n bytes at the free end of chunk (of a new chunk when
// they do not fit) and the chunk. Many small buffers share a chunk, which
// the garbage collector frees with the last of them.
func reserve(chunk []byte, n int) (dst, _ []byte) {
	if cap(chunk)-len(chunk) < n {
		chunk = make([]byte, 0, max(n, 256<<10))
	}
	start := len(chunk)
	chunk = chunk[:start+n]
	return chunk[start : start+n : start+n], chunk
}

// crossed reports whether adding n made total reach at.
func crossed(total, n, at int64) bool { return total >= at && total-n < at }

// fullPack is how many bytes put end the sender's wait for more: a pack
// of them at most, with the broker's default max_payload.
var fullPack = int64(packBytes(0, true))

// coalesceWait is how long the sender lets lines gather before it packs
// and sends them. The broker's work is mostly per message, and a sensor
// often shares its machine with it, or shares the broker with dozens of
// others: on the bench workload (a 1 M-packet replay, about 21 MB of
// alerts and residency records) the broker spent 60-78 ms of CPU a run
// with 5 ms, 28-30 with 20 and 24-30 with 50; and the replay took 1.15
// and 1.12 times as long as without publishing with 20 and 50 ms. An
// alert reaches the collector at most this much later.
const coalesceWait = 50 * time.Millisecond

// Pending returns how many alerts and events await acknowledgement.
func (p *Publisher) Pending() (alerts, events int) {
	return p.q[KindAlert].Len() + int(p.flying[KindAlert].Load()), p.q[KindEvent].Len() + int(p.flying[KindEvent].Load())
}

// Acked returns how many records (alert and event lines) the broker has
// acknowledged.
func (p *Publisher) Acked() uint64 { return p.acked.Load() }

// ErrUndelivered is returned by Close when messages were still
// unacknowledged at its deadline.
type ErrUndelivered struct {
	Alerts, Events int
	Spool          string // the spool holding them; "" = they are lost
}

func (e *ErrUndelivered) Error() string {
	if e.Spool != "" {
		return fmt.Sprintf("broker did not acknowledge %d alert(s) and %d event(s); they stay in the spool %s and are sent when a sensor starts on it", e.Alerts, e.Events, e.Spool)
	}
	return fmt.Sprintf("broker did not acknowledge %d alert(s) and %d event(s); without --spool they are lost", e.Alerts, e.Events)
}

// Close sends what is queued, waiting at most wait for the broker, and
// stops Run. Messages still unacknowledged then are reported in an
// *ErrUndelivered (they stay in the spool, if any).
func (p *Publisher) Close(wait time.Duration) error {
	p.once.Do(func() { close(p.closing) })
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		close(p.abandon)
		<-p.done
	}
	for _, q := range p.q {
		if mq, ok := q.(*memQueue); ok {
			mq.close()
		}
	}
	var err error
	if p.opt.Spool != nil {
		err = p.opt.Spool.Close()
	}
	a, e := p.Pending()
	if a+e > 0 {
		u := &ErrUndelivered{Alerts: a, Events: e}
		if p.opt.Spool != nil {
			u.Spool = p.opt.Spool.Dir()
		}
		return u
	}
	return err
}

// Writer returns an io.Writer of ECS JSON lines (what an output.Writer
// writes) that queues each whole line as a message of kind k; keep, when
// set, chooses the lines to send.
func (p *Publisher) Writer(k Kind, keep func(line []byte) bool) io.Writer {
	return &lineWriter{p: p, k: k, keep: keep}
}

type lineWriter struct {
	p     *Publisher
	k     Kind
	keep  func([]byte) bool
	carry []byte // a line cut by the writer's buffer
}

func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.carry = append(w.carry, b...)
			break
		}
		line := b[:i]
		if len(w.carry) > 0 {
			w.carry = append(w.carry, line...)
			line = w.carry
		}
		if w.keep == nil || w.keep(line) {
			if err := w.p.Put(w.k, line); err != nil {
				return 0, err
			}
		}
		w.carry = w.carry[:0]
		b = b[i+1:]
	}
	if sp := w.p.opt.Spool; sp != nil {
		// The lines are in the spool's files before the caller writes
		// them anywhere else (io.MultiWriter order): a sensor killed now
		// has spooled every line its own files hold.
		if err := sp.Flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// IsFlowEvent tells a flow's summary event (event.dataset
// egresswatch.flow) from the other events, for --publish-events flows.
func IsFlowEvent(line []byte) bool {
	return bytes.Contains(line[:min(len(line), 160)], []byte(`"dataset":"`+output.DatasetFlow+`"`))
}

// DatasetResidency is the event.dataset of the residency records a sensor
// publishes for the fleet report: a flow as the policy saw it (groups,
// service, country).
const DatasetResidency = "egresswatch.residency"

// Residency is a residency record on the wire.
type Residency struct {
	Timestamp time.Time `json:"@timestamp"`
	Event     struct {
		Kind    string    `json:"kind"`
		Dataset string    `json:"dataset"`
		Start   time.Time `json:"start"`
		End     time.Time `json:"end"`
	} `json:"event"`
	Source struct {
		IP string `json:"ip"`
	} `json:"source"`
	Destination struct {
		IP     string `json:"ip"`
		Domain string `json:"domain,omitempty"`
	} `json:"destination"`
	Network struct {
		Bytes   uint64 `json:"bytes"`
		Packets uint64 `json:"packets"`
	} `json:"network"`
	Egresswatch struct {
		Group         []string `json:"group,omitempty"`
		Service       string   `json:"service,omitempty"`
		Country       string   `json:"country,omitempty"`
		Indeterminate bool     `json:"indeterminate,omitempty"`
		Reason        string   `json:"reason,omitempty"`
	} `json:"egresswatch"`
	Observer json.RawMessage `json:"observer,omitempty"`
}

// ReportFlow queues a flow of the residency report as a Residency record
// (KindEvent); it is report.Builder.OnFlow of a publishing sensor. The
// line is built by hand (this runs once per flow in the merger).
func (p *Publisher) ReportFlow(f report.FlowSummary) {
	b := p.resBuf[:0]
	b = append(b, `{"@timestamp":"`...)
	t0 := len(b)
	b = f.Last.UTC().AppendFormat(b, time.RFC3339Nano)
	last := len(b) // b[t0:last] is f.Last, for event.end too
	b = append(b, `","event":{"kind":"event","dataset":"`+DatasetResidency+`","start":"`...)
	b = f.First.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","end":"`...)
	b = append(b, b[t0:last]...)
	b = append(b, `"},"source":{"ip":"`...)
	b = f.Device.AppendTo(b)
	b = append(b, `"},"destination":{"ip":"`...)
	b = f.Dst.AppendTo(b)
	b = append(b, '"')
	if f.Name != "" {
		b = append(b, `,"domain":`...)
		b = appendJSONString(b, f.Name)
	}
	b = append(b, `},"network":{"bytes":`...)
	b = strconv.AppendUint(b, f.Bytes, 10)
	b = append(b, `,"packets":`...)
	b = strconv.AppendUint(b, f.Packets, 10)
	b = append(b, `},"egresswatch":{`...)
	comma := false
	field := func(k string) {
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":`...)
	}
	if len(f.Groups) > 0 {
		field("group")
		b = append(b, '[')
		for i, g := range f.Groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, g)
		}
		b = append(b, ']')
	}
	for _, kv := range [...][2]string{{"service", f.Service}, {"country", f.Country}} {
		if kv[1] != "" {
			field(kv[0])
			b = appendJSONString(b, kv[1])
		}
	}
	if f.Indeterminate {
		field("indeterminate")
		b = append(b, "true"...)
	}
	if f.Reason != "" {
		field("reason")
		b = appendJSONString(b, f.Reason)
	}
	b = append(b, "},"...)
	b = output.AppendObserver(b, p.opt.Observer)
	b = append(b, '}')
	p.resBuf = b
	_ = p.Put(KindEvent, b)
}

// appendJSONString appends s as a JSON string, as json.Marshal would.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // rare: escapes, non-ASCII
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// PublishHealth sends a heartbeat (not queued: a late heartbeat is
// worthless). Errors while the broker is away are dropped.
func (p *Publisher) PublishHealth(line []byte) error {
	m := nats.NewMsg(p.subj[KindHealth])
	m.Data = line
	m.Header.Set(jetstream.MsgIDHeader, MsgID(p.sensor, p.opt.Run, KindHealth, p.hbSeq.Add(1)))
	return p.nc.PublishMsg(m)
}

// RunID returns the run's id.
func (p *Publisher) RunID() string { return p.opt.Run }

// Dropped returns how many records were not sent: dropped by the spool at
// its cap, or too large for a message.
func (p *Publisher) Dropped() uint64 {
	n := p.oversize.Load()
	if p.opt.Spool != nil {
		n += p.opt.Spool.Dropped()
	}
	return n
}

// Sensor returns the sensor's name.
func (p *Publisher) Sensor() string { return p.sensor }
