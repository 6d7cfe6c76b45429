package track

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// FlowMeta is what is known about a flow apart from its reassembly
// state: a plain value, so the pipeline can hand a copy to another
// goroutine.
type FlowMeta struct {
	Key flow.Key // Key.Src is the initiator
	// Packets and Bytes per direction: [0] from the initiator, [1] to it.
	Packets     [2]uint64
	Bytes       [2]uint64
	Last, First time.Time
	FirstSeq    uint64 // frame number of the first packet
	Path        string // file of the first packet
	// ID is the caller's number for the flow, unique within a run; the
	// table keeps it. The pipeline numbers a flow by the run-wide number
	// of its first frame.
	ID uint64

	// Device is the initiator's link-layer identity: its MAC (from the
	// initiator's packets) and the VLAN tags of the flow's first packet.
	Device flow.Device
	Tunnel classify.Tunnel

	Name       string
	NameSource flow.NameSource
	// ECH: a ClientHello of the flow carried an outer
	// encrypted_client_hello extension, so Name (from its server_name)
	// may be an ECH public name rather than the name the client meant.
	// Real and GREASE ECH look alike; the pipeline decides which it is.
	ECH bool
	// ESNI: a ClientHello of the flow carried the draft
	// encrypted_server_name extension; the true name is encrypted.
	ESNI bool
	// NameHidden: the ECH was real (the server_name is a known ECH public
	// name), so the true name is encrypted; Name is then the passive DNS
	// name if there is one.
	NameHidden bool
	// BlindSpot marks encrypted DNS (DoT, DoQ, DoH).
	BlindSpot classify.BlindSpot
}

// Flow is one bidirectional conversation. The fields every packet
// touches come first (links, clock, then the key and counters at the
// head of FlowMeta), so a packet of a known flow reads few cache lines.
type Flow struct {
	prev, next *Flow
	hnext      *Flow // next flow with the same hash (Table.m)
	// eprev and enext link the flow into the list of embryonic flows
	// (nothing seen yet from one of its two sides) while it is one.
	eprev, enext *Flow
	// seen is the expiry clock at the flow's last packet: the packet time,
	// or Packet.Clock when the caller keeps a monotonic clock. The
	// recency lists are in seen order, which makes expiry exact.
	seen    time.Time
	closing bool // FIN or RST seen
	class   uint8
	settled bool // Settle has reported the flow
	// Record is the owner's: set when the flow starts, it asks for the
	// flow's packets to be recorded (the pipeline's evidence captures).
	Record bool

	FlowMeta

	Stream classify.Stream // application-layer reassembly state
}

// Settle reports, once in the flow's life, that nothing more is likely
// to name it: its stream has nothing left to inspect, or it has carried
// after packets (both directions) without a name. The policy judges an
// unnamed flow then rather than waiting for a name that will not come.
func (f *Flow) Settle(after uint64) bool {
	if f.settled {
		return false
	}
	if f.Stream.Done() || f.Packets[0]+f.Packets[1] >= after {
		f.settled = true
		return true
	}
	return false
}

// TableOptions bound a Table.
type TableOptions struct {
	MaxFlows  int           // hard cap; default 1<<18
	TCPIdle   time.Duration // default 5 min
	TCPClosed time.Duration // after FIN/RST, default 10 s
	UDPIdle   time.Duration // default 1 min
	OtherIdle time.Duration // default 1 min
	// Manual turns off the sweep that Lookup runs once per second of
	// packet time: flows then end only by Advance, Flush, the cap, or when
	// a packet arrives for a flow already past its timeout. A sharded
	// pipeline advances every worker's table at the same instants, so that
	// which flows end, and when, does not depend on the number of workers.
	Manual     bool
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

// Timeout classes: each has one idle timeout, so its recency list is also
// in deadline order and expiry is exact and costs only what it ends.
const (
	classTCP = iota
	classTCPClosed
	classUDP
	classOther
	numClasses
)

// Table is a bounded flow table. Not safe for concurrent use: each worker
// owns one.
type Table struct {
	opts TableOptions
	// m indexes the flows by a keyed, direction-blind hash of their key;
	// flows whose hashes collide chain through Flow.hnext. A uint64 key
	// takes the map's fastest path (flow.Key holds netip.Addr's pointer
	// and is 72 bytes to hash and compare), and the seed, drawn per
	// table, keeps crafted traffic from piling flows on one chain.
	m     map[uint64]*Flow
	n     int // flows in m
	seed  [4]uint64
	hmask uint64           // all ones; tests narrow it to force chains
	lists [numClasses]Flow // sentinels of the recency lists: .next is the newest
	// embryo is the sentinel of the embryonic flows, newest first. When
	// the table is full these go first, oldest first: a flood of SYNs or
	// spoofed one-packet flows then evicts itself, not the conversations
	// that have answered.
	embryo Flow
	idle   [numClasses]time.Duration
	end    func(*Flow)
	free   []*Flow
	swept  time.Time
	Stats  TableStats
}

// NewTable returns a Table that calls end for every flow that ends
// (expired, evicted, or flushed). end may be nil.
func NewTable(opts TableOptions, end func(*Flow)) *Table {
	opts.defaults()
	t := &Table{opts: opts, m: make(map[uint64]*Flow, 1024), seed: [4]uint64{rand.Uint64() | 1, rand.Uint64() | 1, rand.Uint64() | 1, rand.Uint64() | 1}, hmask: ^uint64(0), end: end}
	for i := range t.lists {
		h := &t.lists[i]
		h.next, h.prev = h, h
	}
	t.embryo.enext, t.embryo.eprev = &t.embryo, &t.embryo
	t.idle = [numClasses]time.Duration{opts.TCPIdle, opts.TCPClosed, opts.UDPIdle, opts.OtherIdle}
	return t
}

// Lookup finds or creates the flow of p and accounts p to it. It reports
// whether p travels from the initiator and whether the flow is new.
func (t *Table) Lookup(p *classify.Packet) (f *Flow, fromInitiator, isNew bool) {
	now := p.Clock
	if now.IsZero() {
		now = p.Time
	}
	if !t.opts.Manual && (now.Sub(t.swept) >= t.opts.sweepEvery || now.Before(t.swept)) {
		t.expire(now)
		t.swept = now
	}
	h := t.hash(p.Key)
	f = t.find(h, p.Key)
	if f != nil && now.Sub(f.seen) >= t.idle[f.class] {
		// Past its timeout: this packet starts a new flow.
		t.finish(f)
		t.Stats.Expired++
		f = nil
	}
	if f == nil {
		if t.n >= t.opts.MaxFlows {
			victim := t.embryo.eprev
			if victim == &t.embryo {
				victim = t.oldest()
			}
			t.finish(victim)
			t.Stats.Evicted++
		}
		f = t.alloc()
		f.Key = orient(p)
		f.First, f.FirstSeq, f.Path = p.Time, p.Seq, p.Path
		if f.Key.Src == p.Key.Src && p.Sender.HasMAC {
			f.Device.MAC, f.Device.HasMAC = p.Sender.MAC, true
		}
		f.Device.VLAN, f.Device.NVLAN, f.Tunnel = p.Sender.VLAN, p.Sender.NVLAN, p.Tunnel
		f.class = classOf(f.Key.Proto)
		f.enext, f.eprev = t.embryo.enext, &t.embryo
		t.embryo.enext.eprev = f
		t.embryo.enext = f
		f.hnext = t.m[h]
		t.m[h] = f
		t.n++
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
		if !f.Device.HasMAC && p.Sender.HasMAC {
			f.Device.MAC, f.Device.HasMAC = p.Sender.MAC, true
		}
	}
	f.Packets[d] += uint64(max(1, p.Frames))
	f.Bytes[d] += uint64(p.WireLen)
	if f.enext != nil && f.Packets[0] > 0 && f.Packets[1] > 0 {
		f.eprev.enext, f.enext.eprev = f.enext, f.eprev // answered: no longer embryonic
		f.eprev, f.enext = nil, nil
	}
	f.seen = now
	if p.Time.After(f.Last) {
		f.Last = p.Time
	}
	if p.TCPFlags&(classify.FlagFIN|classify.FlagRST) != 0 && !f.closing {
		f.closing = true
		t.unlink(f)
		f.class = classTCPClosed
		t.pushFront(f)
	}
	t.Stats.Active = t.n
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
	for f := t.oldest(); f != nil; f = t.oldest() {
		t.finish(f)
	}
	t.Stats.Active = 0
}

// Advance ends every flow whose idle timeout has passed at packet time
// now. With TableOptions.Manual it is the only sweep.
func (t *Table) Advance(now time.Time) { t.expire(now) }

func (t *Table) expire(now time.Time) {
	for c := range t.lists {
		h := &t.lists[c]
		for f := h.prev; f != h && now.Sub(f.seen) >= t.idle[c]; f = h.prev {
			t.finish(f)
			t.Stats.Expired++
		}
	}
	t.Stats.Active = t.n
}

// oldest returns the least recently seen flow, or nil.
func (t *Table) oldest() *Flow {
	var o *Flow
	for c := range t.lists {
		h := &t.lists[c]
		if f := h.prev; f != h && (o == nil || f.seen.Before(o.seen)) {
			o = f
		}
	}
	return o
}

func classOf(p flow.Proto) uint8 {
	switch p {
	case flow.TCP:
		return classTCP
	case flow.UDP:
		return classUDP
	}
	return classOther
}

func (t *Table) finish(f *Flow) {
	if f.enext != nil {
		f.eprev.enext, f.enext.eprev = f.enext, f.eprev
		f.eprev, f.enext = nil, nil
	}
	t.remove(f)
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
	h := &t.lists[f.class]
	f.next, f.prev = h.next, h
	h.next.prev = f
	h.next = f
}

// Len returns the number of flows in the table.
func (t *Table) Len() int { return t.n }

// hash is a keyed hash of k that is the same for both directions: each
// endpoint is hashed on its own and the two are combined in order of
// value (a multiply-and-fold mix, as wyhash does).
func (t *Table) hash(k flow.Key) uint64 {
	a, b := t.endpoint(k.Src), t.endpoint(k.Dst)
	if a > b {
		a, b = b, a
	}
	return mix(a^t.seed[2], b^t.seed[3]^uint64(k.Proto)) & t.hmask
}

func (t *Table) endpoint(e netip.AddrPort) uint64 {
	a := e.Addr().As16()
	hi, lo := binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])
	return mix(hi^t.seed[0], lo^t.seed[1]^uint64(e.Port())<<48)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// find returns the flow of k (in either direction) among those hashed to h.
func (t *Table) find(h uint64, k flow.Key) *Flow {
	for f := t.m[h]; f != nil; f = f.hnext {
		if f.Key == k || f.Key == k.Reverse() {
			return f
		}
	}
	return nil
}

// remove takes f out of the index.
func (t *Table) remove(f *Flow) {
	h := t.hash(f.Key)
	p := t.m[h]
	if p == f {
		if f.hnext == nil {
			delete(t.m, h)
		} else {
			t.m[h] = f.hnext
		}
	} else {
		for p != nil && p.hnext != f {
			p = p.hnext
		}
		if p != nil {
			p.hnext = f.hnext
		}
	}
	f.hnext = nil
	t.n--
}
