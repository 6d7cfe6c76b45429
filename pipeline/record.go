package pipeline

import (
	"net/netip"
	"time"

	"github.com/egresswatch/egresswatch/track"
)

// recKind says what a record carries from a worker to the merger.
type recKind uint8

const (
	recEvent      recKind = iota // an encoded observation event (in the worker's arena)
	recFlowStart                 // a new flow
	recFlowNamed                 // the worker named the flow (SNI, Host, QUIC SNI)
	recFlowSettle                // nothing more will name the flow: judge it if still pending
	recFlowEnd                   // the flow ended (expired, evicted, flushed)
	recDNS                       // a DNS message: a device's question, or answers for passive DNS
)

// record is one thing a worker found, in the order the merger must see
// it: by global frame number n, then sub within the frame; flow ends at a
// batch boundary (boundary) sort after that batch's frames, by the flow's
// first frame.
type record struct {
	n        uint64
	boundary bool
	firstN   uint64
	sub      uint32
	kind     recKind
	worker   uint16

	fs      *flowState
	meta    track.FlowMeta
	lineAt  int // recEvent: the line in the worker's arena
	lineLen int
	dns     *dnsFacts
	// hello: a recEvent for a ClientHello, with fs and meta set and the
	// line's notes at [notesAt, notesEnd) (output.Encoder.NotesSpan), for
	// the merger to rewrite when it knows more (real ECH, DoH).
	hello             bool
	notesAt, notesEnd int
}

func (a *record) less(b *record) bool {
	if a.n != b.n {
		return a.n < b.n
	}
	if a.boundary != b.boundary {
		return !a.boundary
	}
	if a.boundary {
		return a.firstN < b.firstN
	}
	return a.sub < b.sub
}

// dnsFacts is what the merger needs of a DNS message.
type dnsFacts struct {
	response bool
	qname    string
	time     time.Time
	src      netip.Addr
	mac      [6]byte
	hasMAC   bool
	vlan     [2]uint16
	nvlan    uint8
	addrs    []addrTTL
	echNames []string // ECH public names from HTTPS/SVCB answers
}

type addrTTL struct {
	addr netip.Addr
	ttl  uint32
}
