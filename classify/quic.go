package classify

import (
	"bytes"
	"encoding/binary"

	"github.com/egresswatch/egresswatch/classify/gquic"
	"github.com/egresswatch/egresswatch/classify/quic"
	"github.com/egresswatch/egresswatch/classify/tlshello"
)

// quicState follows the client Initials of one UDP flow.
type quicState struct {
	conn  *quic.Conn // allocated when the flow's first Initial arrives
	dcid  []byte     // DCID of the attempt whose ClientHello was reported
	done  bool       // nothing more to learn: not QUIC, or the hello is reported
	waits uint8      // long-header datagrams seen before any Initial

	// Google QUIC (Q0xx with QUIC Crypto): the connection's version and,
	// once its CHLO is reported, its connection ID (kept in dcid too, which
	// keeps the flow open to a new attempt).
	gversion uint32
	gcid     uint64
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
	if q.gversion != 0 || q.conn == nil && len(q.dcid) == 0 && !q.done && plainCHLOVersion(gquicVersion(b)) {
		in.gquicDatagram(q, p)
		return
	}
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
	if res.Version == quic.VersionQ050 {
		in.cryptoMessage(p, res.Hello, res.Version)
	} else {
		in.hello(p, res.Hello, AppQUIC, res.Version)
	}
	q.conn = nil // its buffers go; the DCID is enough to spot a new attempt
}

// plainCHLOVersion reports whether v is a Google QUIC version whose CHLO
// travels unencrypted (Q024..Q046), read by package gquic. Q050 encrypts
// its Initials like IETF QUIC and goes through quic.Conn.
func plainCHLOVersion(v uint32) bool {
	return gquic.IsVersion(v) && !quic.KnownVersion(v)
}

// cryptoMessage reports the CHLO that a Q050 connection's CRYPTO stream
// carried, reassembled by quic.Conn.
func (in *Inspector) cryptoMessage(p *Packet, msg []byte, version uint32) {
	var c gquic.CHLO
	if !gquic.ParseMessage(msg, &c) {
		in.Stats.TLSMalformed++ // as for a QUIC ClientHello that does not parse
		return
	}
	in.chlo(p, c.SNI, version)
}

// chlo reports the server name of a Google QUIC CHLO as a QUIC hello of
// the gQUIC version.
func (in *Inspector) chlo(p *Packet, sni []byte, version uint32) {
	k := len(in.obs)
	for k >= len(in.hellos) {
		in.hellos = append(in.hellos, tlshello.ClientHello{})
	}
	h := &in.hellos[k]
	h.SetServerName(sni)
	in.Stats.QUICHellos++
	in.Stats.GQUICHellos++
	in.obs = append(in.obs, Observation{App: AppQUIC, Packet: p, Hello: h, QUICVersion: version})
}

// gquicVersion returns the version a Google QUIC client packet names, or 0:
// the 4 bytes after an 8-byte connection ID (public header, Q024..Q043) or
// after the first byte (long header, Q046).
func gquicVersion(b []byte) uint32 {
	switch {
	case len(b) >= 13 && b[0]&0x81 == 0x01:
		return binary.BigEndian.Uint32(b[9:13])
	case len(b) >= 5 && b[0]&0x80 != 0:
		return binary.BigEndian.Uint32(b[1:5])
	}
	return 0
}

// gquicDatagram follows a Google QUIC flow: its CHLO's SNI is reported
// once per connection ID, as a QUIC hello of the gQUIC version. A flow
// that shows no CHLO in its first few packets is given up.
func (in *Inspector) gquicDatagram(q *quicState, p *Packet) {
	if len(q.dcid) > 0 { // reported: only a new connection ID matters
		if _, cid, _, ok := gquic.Header(p.Payload, q.gversion); !ok || cid == q.gcid {
			return
		}
	}
	var c gquic.CHLO
	if !gquic.Parse(p.Payload, q.gversion, &c) {
		if len(q.dcid) == 0 {
			if q.waits++; q.waits >= maxQUICWaits {
				q.done = true // nothing (more) to learn from this flow
				q.gversion = 0
			}
		}
		return
	}
	q.gversion = c.Version
	if len(q.dcid) > 0 && c.CID == q.gcid {
		return // the CHLO again (after a REJ) or a retransmission
	}
	in.chlo(p, c.SNI, c.Version)
	q.gcid, q.done = c.CID, true
	q.dcid = binary.LittleEndian.AppendUint64(q.dcid[:0], c.CID)
}
