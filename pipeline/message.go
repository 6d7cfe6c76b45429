package pipeline

import (
	"cmp"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/track"
)

// step is the point in a flow's life that a message reports.
type step uint8

const (
	stepStart   step = iota // the flow's first packet: place is set
	stepObserve             // an observation of the flow: obs and renamed
	stepSettle              // nothing more is likely to name the flow (track.Flow.Settle)
	stepEnd                 // the flow ended (expired, evicted, flushed)
	stepPacket              // a packet of a flow recorded as evidence: frame
)

// message is what a worker tells the merger about one of its flows, at
// one frame: the flow as the worker knows it then, and what happened.
type message struct {
	at   order
	step step
	meta track.FlowMeta // a copy: the worker goes on changing the flow

	// place is the destination's placement (stepStart); nil when the run
	// places nothing.
	place *geo.Placement
	// obs is a copy of the observation (stepObserve; classify.Keep), when
	// it has an event to write or is a DNS message with a question; nil
	// otherwise.
	obs *classify.Observation
	// renamed: the observation gave the flow a name, or a better one
	// (stepObserve).
	renamed bool
	// frame is the packet (stepPacket). Its bytes are the batch's, valid
	// until the merger is done with the batch.
	frame capture.Frame
}

// order is where a message sorts among all workers' messages of a batch:
// by global frame number n, then sub within the frame. Flow ends found at
// a batch boundary (boundary) sort after that batch's frames, by the
// flow's first frame (firstN), so that their order does not depend on
// which worker held which flow.
type order struct {
	n, firstN uint64
	sub       uint32
	boundary  bool
}

func (a *order) compare(b *order) int {
	switch {
	case a.n != b.n:
		return cmp.Compare(a.n, b.n)
	case a.boundary != b.boundary:
		if a.boundary {
			return 1
		}
		return -1
	case a.boundary:
		return cmp.Compare(a.firstN, b.firstN)
	}
	return cmp.Compare(a.sub, b.sub)
}

// outbox is what one worker hands the merger for one batch: its messages
// and the storage they point into, reused when the batch is.
type outbox struct {
	msgs   []message
	places []geo.Placement
	keep   classify.Keep
	stats  workerStats // the worker's counters after the batch
}

func (o *outbox) reset() {
	o.msgs = o.msgs[:0]
	o.places = o.places[:0]
	o.keep.Reset()
}
