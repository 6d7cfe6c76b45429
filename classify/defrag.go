package classify

import (
	"net/netip"
	"time"
)

// IP reassembly (RFC 791, RFC 8200 section 4.5), bounded: at most max
// datagrams in progress, each at most maxDatagram bytes, dropped after
// fragTimeout of packet time. Overlapping fragments keep the first copy of
// each byte, as most hosts do.

const (
	maxDatagram = 65535
	fragTimeout = 30 * time.Second
	// maxFragPieces bounds the fragments of one datagram; a flood of tiny
	// overlapping fragments would otherwise cost quadratic time.
	maxFragPieces = 64
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type fragPiece struct {
	off  int
	data []byte
}

type fragEntry struct {
	key    fragKey
	first  time.Time
	pieces []fragPiece
	total  int // length of the whole payload once the last fragment is seen, else -1
	size   int
	wire   int // the fragments' frames: bytes on the wire, and how many
	frames int
}

type defragmenter struct {
	max         int
	entries     map[fragKey]*fragEntry
	order       []*fragEntry // oldest first, for eviction
	buf         []byte       // the last reassembled payload; valid until the next add
	reassembled uint64
	evicted     uint64
}

func (f *defragmenter) init(max int) {
	f.max = max
	f.entries = make(map[fragKey]*fragEntry)
}

// add stores one fragment, which came in a frame of wire bytes on the
// wire. When the datagram is complete it returns its payload (valid until
// the next call), the wire bytes and number of its fragments' frames, and
// true.
func (f *defragmenter) add(k fragKey, off int, more bool, data []byte, wire int, now time.Time) ([]byte, int, int, bool) {
	f.expire(now)
	e := f.entries[k]
	if e == nil {
		if len(f.entries) >= f.max {
			f.drop(f.order[0])
			f.evicted++
		}
		e = &fragEntry{key: k, first: now, total: -1}
		f.entries[k] = e
		f.order = append(f.order, e)
	}
	if off+len(data) > maxDatagram || e.size+len(data) > 2*maxDatagram || len(e.pieces) >= maxFragPieces {
		f.drop(e)
		f.evicted++
		return nil, 0, 0, false
	}
	e.wire += wire
	e.frames++
	if !more {
		e.total = off + len(data)
	}
	e.pieces = append(e.pieces, fragPiece{off: off, data: append([]byte(nil), data...)})
	e.size += len(data)
	if e.total < 0 {
		return nil, 0, 0, false
	}
	// Complete when the pieces cover [0, total) without a hole.
	end := 0
	for progress := true; progress && end < e.total; {
		progress = false
		for _, p := range e.pieces {
			if p.off <= end && p.off+len(p.data) > end {
				end = p.off + len(p.data)
				progress = true
			}
		}
	}
	if end < e.total {
		return nil, 0, 0, false
	}
	if cap(f.buf) < e.total {
		f.buf = make([]byte, e.total)
	}
	f.buf = f.buf[:e.total]
	// Write later pieces first so that the first copy of a byte wins.
	for i := len(e.pieces) - 1; i >= 0; i-- {
		p := e.pieces[i]
		n := min(len(p.data), e.total-p.off)
		if n > 0 {
			copy(f.buf[p.off:p.off+n], p.data[:n])
		}
	}
	f.drop(e)
	f.reassembled++
	return f.buf, e.wire, e.frames, true
}

func (f *defragmenter) expire(now time.Time) {
	for len(f.order) > 0 && now.Sub(f.order[0].first) > fragTimeout {
		f.drop(f.order[0])
		f.evicted++
	}
}

func (f *defragmenter) drop(e *fragEntry) {
	delete(f.entries, e.key)
	for i, o := range f.order {
		if o == e {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
}
