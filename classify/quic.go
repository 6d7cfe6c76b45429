package classify

import (
	"bytes"

	"github.com/egresswatch/egresswatch/classify/quic"
)

// quicState follows the client Initials of one UDP flow.
type quicState struct {
	conn  *quic.Conn // allocated when the flow's first Initial arrives
	dcid  []byte     // DCID of the attempt whose ClientHello was reported
	done  bool       // nothing more to learn: not QUIC, or the hello is reported
	waits uint8      // long-header datagrams seen before any Initial
}

// maxQUICWaits bounds how many long-header datagrams (0-RTT packets can
// overtake the Initial) a flow may send before its first Initial.
const maxQUICWaits = 8

// quicDatagram feeds a client-to-server datagram to the flow's QUIC state.
// A ClientHello is reported once per connection attempt: after it, the
// flow is done unless an Initial for a new attempt (another DCID on the
// same ports) arrives.
func (in *Inspector) quicDatagram(st *Stream, p *Packet) {
	q := &st.quic
	b := p.Payload
	if q.done {
		if len(q.dcid) == 0 || !quic.LooksLikeInitial(b) {
			return // not QUIC, or a packet of the reported connection
		}
		dcid, ok := quic.InitialDCID(b)
		if !ok || bytes.Equal(dcid, q.dcid) {
			return
		}
		q.done = false // a new connection attempt on the same ports
	}
	if q.conn == nil {
		if !quic.LooksLikeInitial(b) {
			if len(b) > 0 && b[0]&0x80 != 0 && q.waits < maxQUICWaits {
				q.waits++ // a long header, e.g. 0-RTT ahead of its Initial
				return
			}
			q.done = true // nothing (more) to learn from this flow
			return
		}
		q.conn = new(quic.Conn)
	}
	res, err := q.conn.Feed(b)
	if err != nil {
		in.Stats.QUICUndecrypt++
	}
	if !res.Complete {
		return
	}
	q.dcid = append(q.dcid[:0], res.DCID...)
	q.done = true
	in.hello(p, res.Hello, AppQUIC, res.Version)
	q.conn = nil // its buffers go; the DCID is enough to spot a new attempt
}
