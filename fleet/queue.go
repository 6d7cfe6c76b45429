package fleet

import (
	"strconv"
	"sync"
)

// Msg is one record on its way to the broker. Its id (the collector's
// event.id) is Stream.Seq; Stream is shared by every record of a run and
// kind, so queueing a record builds no string.
type Msg struct {
	Num    uint64 // its number in its queue, set by the queue
	Kind   Kind
	Stream string // sensor.run.kind letter (StreamID)
	Seq    uint64 // from 1 per stream
	Data   []byte // one JSON line, without its newline
}

// ID returns the record's id, as MsgID makes it.
func (m *Msg) ID() string { return string(m.AppendID(nil)) }

// AppendID appends the record's id to b.
func (m *Msg) AppendID(b []byte) []byte {
	return strconv.AppendUint(append(append(b, m.Stream...), '.'), m.Seq, 10)
}

// queue holds a sensor's messages of one kind until the broker
// acknowledges them, oldest first. One goroutine puts, one (the sender)
// peeks and acks. memQueue keeps them in memory; Spool on disk.
type queue interface {
	// Put adds m at the end; it blocks while a bounded queue is full.
	Put(m Msg) error
	// Peek appends to buf up to n messages numbered from on (from the
	// oldest, if that is later), in order, without removing them. It does
	// not block.
	Peek(buf []Msg, from uint64, n int) ([]Msg, error)
	// Ack removes the messages numbered below upTo: the broker has them.
	Ack(upTo uint64) error
	// Len returns how many messages the queue holds.
	Len() int
}

// memQueue is a bounded in-memory queue: without a spool, a broker that
// is away stops the run (replay) at the cap rather than losing alerts.
type memQueue struct {
	mu     sync.Mutex
	space  sync.Cond
	msgs   []Msg // msgs[head:] are queued
	head   int
	first  uint64 // the number of msgs[head]
	max    int
	closed bool
}

func newMemQueue(max int) *memQueue {
	q := &memQueue{max: max}
	q.space.L = &q.mu
	return q
}

func (q *memQueue) Put(m Msg) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.msgs)-q.head >= q.max && !q.closed {
		q.space.Wait()
	}
	if q.head > 0 && q.head >= len(q.msgs)/2 {
		n := copy(q.msgs, q.msgs[q.head:])
		clear(q.msgs[n:])
		q.msgs, q.head = q.msgs[:n], 0
	}
	m.Num = q.first + uint64(len(q.msgs)-q.head)
	q.msgs = append(q.msgs, m)
	return nil
}

func (q *memQueue) Peek(buf []Msg, from uint64, n int) ([]Msg, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	start := q.head + int(max(from, q.first)-q.first)
	if start >= len(q.msgs) {
		return buf, nil
	}
	return append(buf, q.msgs[start:min(start+n, len(q.msgs))]...), nil
}

func (q *memQueue) Ack(upTo uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if upTo <= q.first {
		return nil
	}
	n := min(int(upTo-q.first), len(q.msgs)-q.head)
	clear(q.msgs[q.head : q.head+n])
	q.head += n
	q.first += uint64(n)
	q.space.Broadcast()
	return nil
}

func (q *memQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs) - q.head
}

// close releases a producer blocked in Put (the run is being abandoned).
func (q *memQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.space.Broadcast()
	q.mu.Unlock()
}
