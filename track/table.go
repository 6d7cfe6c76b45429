package track

import (
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// NameSource says how a flow's destination name is known.
type NameSource uint8

const (
	NameNone NameSource = iota // zero value: unnamed
	NameDNS                    // from the passive DNS cache
	NameHTTP                   // HTTP Host header
	NameSNI                    // TLS ClientHello server_name
	NameQUIC                   // QUIC ClientHello server_name
)

var nameSources = [...]string{"", "dns", "http", "sni", "quic"}

func (s NameSource) String() string { return nameSources[s] }

// Flow is one bidirectional conversation. Key.Src is the initiator.
type Flow struct {
	Key         flow.Key
	First, Last time.Time
	FirstSeq    uint64 // frame number of the first packet
	Path        string // file of the first packet
	// Packets and Bytes per direction: [0] from the initiator, [1] to it.
	Packets [2]uint64
	Bytes   [2]uint64

	SrcMAC [6]byte // initiator's MAC, when the link layer has one
	HasMAC bool
	VLAN   [2]uint16
	NVLAN  uint8
	Tunnel classify.Tunnel

	Name       string
	NameSource NameSource

	Stream classify.Stream // application-layer reassembly state

	// User is free for the pipeline (rule state, placement) and is kept
	// with the flow until it ends.
	User any

	closing    bool // FIN or RST seen
	prev, next *Flow
}

// TableOptions bound a Table.
type TableOptions struct {
	MaxFlows   int           // hard cap; default 1<<18
	TCPIdle    time.Duration // default 5 min
	TCPClosed  time.Duration // after FIN/RST, default 10 s
	UDPIdle    time.Duration // default 1 min
	OtherIdle  time.Duration // default 1 min
	sweepEvery time.Duration
}

func (o *TableOptions) defaults() {
	if o.MaxFlows <= 0 {
		o.MaxFlows = 1 << 18
	}
	if o.TCPIdle <= 0 {
		o.TCPIdle = 5 * time.Minute
	}
	if o.TCPClosed <= 0 {
		o.TCPClosed = 10 * time.Second
	}
	if o.UDPIdle <= 0 {
		o.UDPIdle = time.Minute
	}
	if o.OtherIdle <= 0 {
		o.OtherIdle = time.Minute
	}
	o.sweepEvery = time.Second
}

// TableStats counts flows.
type TableStats struct {
	Flows   uint64 // flows created
	Expired uint64 // ended by idle timeout
	Evicted uint64 // ended early because the table was full
	Active  int
}

// Table is a bounded flow table. Not safe for concurrent use: each worker
// owns one.
type Table struct {
	opts  TableOptions
	m     map[flow.Key]*Flow
	head  Flow // sentinel of the recency list: head.next is the newest
	end   func(*Flow)
	free  []*Flow
	swept time.Time
	Stats TableStats
}

// NewTable returns a Table that calls end for every flow that ends
// (expired, evicted, or flushed). end may be nil.
func NewTable(opts TableOptions, end func(*Flow)) *Table {
	opts.defaults()
	t := &Table{opts: opts, m: make(map[flow.Key]*Flow, 1024), end: end}
	t.head.next, t.head.prev = &t.head, &t.head
	return t
}

// Lookup finds or creates the flow of p and accounts p to it. It reports
// whether p travels from the initiator and whether the flow is new.
func (t *Table) Lookup(p *classify.Packet) (f *Flow, fromInitiator, isNew bool) {
	if p.Time.Sub(t.swept) >= t.opts.sweepEvery || p.Time.Before(t.swept) {
		t.expire(p.Time)
		t.swept = p.Time
	}
	ck, _ := p.Key.Canonical()
	f = t.m[ck]
	if f == nil {
		if len(t.m) >= t.opts.MaxFlows {
			t.finish(t.head.prev)
			t.Stats.Evicted++
		}
		f = t.alloc()
		f.Key = orient(p)
		f.First, f.FirstSeq, f.Path = p.Time, p.Seq, p.Path
		fromInit := f.Key.Src == p.Key.Src
		if fromInit && p.HasMAC {
			f.SrcMAC, f.HasMAC = p.SrcMAC, true
		}
		f.VLAN, f.NVLAN, f.Tunnel = p.VLAN, p.NVLAN, p.Tunnel
		t.m[ck] = f
		t.Stats.Flows++
		isNew = true
	} else {
		t.unlink(f)
	}
	t.pushFront(f)
	fromInitiator = f.Key.Src == p.Key.Src
	d := 1
	if fromInitiator {
		d = 0
		if !f.HasMAC && p.HasMAC {
			f.SrcMAC, f.HasMAC = p.SrcMAC, true
		}
	}
	f.Packets[d]++
	f.Bytes[d] += uint64(p.WireLen)
	if p.Time.After(f.Last) {
		f.Last = p.Time
	}
	if p.TCPFlags&(classify.FlagFIN|classify.FlagRST) != 0 {
		f.closing = true
	}
	t.Stats.Active = len(t.m)
	return f, fromInitiator, isNew
}

// orient returns the key of a new flow with the initiator first: the
// sender of a SYN, the receiver of a SYN-ACK, else the side on the higher
// (client) port when the other is a well-known or registered service
// port, else the sender of the first packet.
func orient(p *classify.Packet) flow.Key {
	k := p.Key
	if k.Proto == flow.TCP {
		switch p.TCPFlags & (classify.FlagSYN | classify.FlagACK) {
		case classify.FlagSYN:
			return k
		case classify.FlagSYN | classify.FlagACK:
			return k.Reverse()
		}
	}
	sp, dp := k.Src.Port(), k.Dst.Port()
	if serverPort(sp) && !serverPort(dp) {
		return k.Reverse()
	}
	if serverPort(sp) && serverPort(dp) && sp < dp {
		return k.Reverse()
	}
	return k
}

// serverPort reports whether a port is one services listen on: below the
// ephemeral range used by common stacks (1024..32767 are registered ports).
func serverPort(p uint16) bool { return p != 0 && p < 32768 && p != 1024 }

// Flush ends every flow, oldest first.
func (t *Table) Flush() {
	for t.head.prev != &t.head {
		t.finish(t.head.prev)
	}
	t.Stats.Active = 0
}

func (t *Table) expire(now time.Time) {
	// The list is in recency order, but timeouts differ by protocol and
	// state, so a flow that is not yet due does not prove that newer ones
	// are not: look past a bounded number of them.
	skipped := 0
	for f := t.head.prev; f != &t.head && skipped < 64; {
		prev := f.prev
		if now.Sub(f.Last) >= t.idle(f) {
			t.finish(f)
			t.Stats.Expired++
		} else {
			skipped++
		}
		f = prev
	}
	t.Stats.Active = len(t.m)
}

func (t *Table) idle(f *Flow) time.Duration {
	switch f.Key.Proto {
	case flow.TCP:
		if f.closing {
			return t.opts.TCPClosed
		}
		return t.opts.TCPIdle
	case flow.UDP:
		return t.opts.UDPIdle
	}
	return t.opts.OtherIdle
}

func (t *Table) finish(f *Flow) {
	ck, _ := f.Key.Canonical()
	delete(t.m, ck)
	t.unlink(f)
	if t.end != nil {
		t.end(f)
	}
	f.Stream.Release()
	*f = Flow{}
	t.free = append(t.free, f)
}

func (t *Table) alloc() *Flow {
	if n := len(t.free); n > 0 {
		f := t.free[n-1]
		t.free = t.free[:n-1]
		return f
	}
	return new(Flow)
}

func (t *Table) unlink(f *Flow) {
	f.prev.next, f.next.prev = f.next, f.prev
	f.prev, f.next = nil, nil
}

func (t *Table) pushFront(f *Flow) {
	f.next, f.prev = t.head.next, &t.head
	t.head.next.prev = f
	t.head.next = f
}

// Len returns the number of flows in the table.
func (t *Table) Len() int { return len(t.m) }
