package classify

import (
	"encoding/binary"

	"github.com/egresswatch/egresswatch/classify/tlshello"
	"github.com/egresswatch/egresswatch/flow"
)

// Bounds of the per-flow reassembly.
const (
	maxFirstFlight = 32 << 10 // bytes buffered per direction before giving up (an 11 KB ClientHello fits)
	maxDNSStream   = 2 + 65535
	maxOOOSegments = 16 // segments held ahead of a gap per direction
	maxHellos      = 3  // ClientHellos reported per connection (retry after HelloRetryRequest)
)

// InspectStats counts what the Inspector recognised and what it gave up on.
// Like DecodeStats, each counter has a row in pipeline/counters.go.
type InspectStats struct {
	DNSMessages    uint64
	DNSMalformed   uint64
	DNSPartial     uint64 // only header and question readable
	TLSHellos      uint64
	TLSMalformed   uint64
	HTTPRequests   uint64
	QUICHellos     uint64 // IETF and Google QUIC
	GQUICHellos    uint64 // Google QUIC (Q0xx) CHLOs among QUICHellos
	QUICUndecrypt  uint64
	StreamOverflow uint64 // first flight larger than the buffer bound
	BudgetRefused  uint64 // streams that gave up because the memory budget was spent
	OOODropped     uint64 // out-of-order segments dropped at the bound
	// Device-identity messages (devices.go).
	DHCPMessages   uint64
	DHCPMalformed  uint64
	NBNSMessages   uint64
	NBNSMalformed  uint64
	LLMNRMessages  uint64
	MDNSMessages   uint64
	LocalMalformed uint64 // LLMNR and mDNS messages that did not decode
}

// half-stream modes.
const (
	modeUnknown uint8 = iota
	modeTLS
	modeHTTP
	modeDNS
	modeDone
)

type oooSeg struct {
	seq  uint32
	data []byte
}

// half follows one direction of a TCP connection.
type half struct {
	mode     uint8
	seqKnown bool
	httpIdle bool  // between HTTP requests: only a segment that starts a request is looked at
	hellos   uint8 // ClientHellos seen in this direction
	next     uint32
	buf      []byte
	ooo      []oooSeg
}

// Stream is the application-layer state of one flow. The zero value is
// ready; the flow table keeps one per flow.
type Stream struct {
	done bool // first: read for every packet
	half [2]half
	quic quicState

	acct    *int64 // the Inspector's count of bytes held, charged below
	charged int64  // what this stream holds: reassembly buffers, QUIC state
}

// Done reports whether nothing more will be learnt from this flow, so the
// caller can skip Inspect for its remaining packets. QUIC flows stay open
// to a new connection attempt only while they are not done; UDP flows to
// DNS never are.
func (s *Stream) Done() bool { return s.done }

// Release frees the buffers a Stream holds and returns them to the
// Inspector's memory budget.
func (s *Stream) Release() {
	if s.acct != nil {
		*s.acct -= s.charged
	}
	*s = Stream{}
}

// quicCharge is what a QUIC connection's Initial state is counted as
// against the budget (its CRYPTO buffer grows to a few KiB in practice).
const quicCharge = 8 << 10

// mem returns the bytes the stream holds now.
func (s *Stream) mem() int64 {
	n := s.half[0].mem() + s.half[1].mem()
	if s.quic.conn != nil {
		n += quicCharge
	}
	return n
}

func (h *half) mem() int64 {
	n := int64(cap(h.buf))
	for _, o := range h.ooo {
		n += int64(cap(o.data))
	}
	return n
}

// Inspector finds application-layer observations in packets. One per
// worker; not safe for concurrent use.
type Inspector struct {
	obs     []Observation
	dns     []DNSMessage
	hellos  []tlshello.ClientHello
	dhcp    []DHCPMessage
	nbns    []NBNSMessage
	scratch []byte
	// Budget caps the bytes all streams of this Inspector may hold for
	// reassembly at once (0: no cap). A stream that would go over it gives
	// up (Stats.BudgetRefused), so a flood of half-open ClientHellos
	// cannot grow memory without bound.
	Budget int64
	held   int64
	Stats  InspectStats
}

// NewInspector returns an Inspector.
func NewInspector() *Inspector {
	return &Inspector{dns: make([]DNSMessage, 4), hellos: make([]tlshello.ClientHello, 2)}
}

// Held returns the bytes streams hold for reassembly now.
func (in *Inspector) Held() int64 { return in.held }

// account charges st's memory to the budget; a stream that would go over
// it stops reassembling.
func (in *Inspector) account(st *Stream) {
	st.acct = &in.held
	m := st.mem()
	if d := m - st.charged; d > 0 && in.Budget > 0 && in.held+d > in.Budget {
		in.Stats.BudgetRefused++
		for i := range st.half {
			st.half[i].mode = modeDone
			st.half[i].release()
		}
		if st.quic.conn != nil {
			st.quic.conn, st.quic.done = nil, true
		}
		st.done = true
		m = st.mem()
	}
	in.held += m - st.charged
	st.charged = m
}

// Inspect looks at the payload of p, one packet of the flow whose state is
// st; fromInitiator says whether p travels from the flow's initiator. The
// returned observations are valid until the next call.
func (in *Inspector) Inspect(st *Stream, p *Packet, fromInitiator bool) []Observation {
	in.obs = in.obs[:0]
	switch p.Key.Proto {
	case flow.UDP:
		in.udp(st, p, fromInitiator)
		st.done = st.quic.done && len(st.quic.dcid) == 0 // not QUIC; a QUIC flow stays open to a new attempt
	case flow.TCP:
		dir := 0
		if !fromInitiator {
			dir = 1
		}
		in.tcp(&st.half[dir], p)
		st.done = st.half[0].mode == modeDone && st.half[1].mode == modeDone
	default:
		st.done = true
	}
	if st.charged != 0 || st.half[0].buf != nil || st.half[1].buf != nil || len(st.half[0].ooo)+len(st.half[1].ooo) > 0 || st.quic.conn != nil {
		in.account(st)
	}
	return in.obs
}

func isDNSPort(k flow.Key) bool { return k.Src.Port() == 53 || k.Dst.Port() == 53 }

// isTCPDNSPort adds 5353: DNS over TCP on the mDNS port is plain DNS
// (RFC 6762 section 18), and tshark decodes it as such.
func isTCPDNSPort(k flow.Key) bool {
	return isDNSPort(k) || k.Src.Port() == 5353 || k.Dst.Port() == 5353
}

func (in *Inspector) udp(st *Stream, p *Packet, fromInitiator bool) {
	if isDNSPort(p.Key) {
		in.dnsMessage(p, p.Payload)
		return
	}
	if in.deviceMessage(p) {
		return
	}
	if fromInitiator {
		in.quicDatagram(st, p)
	}
}

func (in *Inspector) tcp(h *half, p *Packet) {
	if h.mode == modeDone {
		return
	}
	if p.TCPFlags&FlagSYN != 0 {
		h.next, h.seqKnown = p.TCPSeq+1, true
		if len(p.Payload) == 0 {
			return
		}
		p.TCPSeq++ // data on a SYN (TCP Fast Open) starts after it
	}
	if len(p.Payload) == 0 {
		return
	}
	if h.mode == modeHTTP && h.httpIdle {
		// Between requests only a segment that starts one matters, or a
		// TLS ClientHello after a CONNECT. h.next follows the highest byte
		// seen, so a retransmitted segment (one that starts before it)
		// never gives a request a second time.
		end := p.TCPSeq + uint32(len(p.Payload))
		if int32(p.TCPSeq-h.next) < 0 {
			if int32(end-h.next) > 0 {
				h.next = end
			}
			return
		}
		h.next = end
		switch {
		case httpStart(p.Payload):
		case tlshello.LooksLikeTLS(p.Payload):
			h.mode = modeTLS
		default:
			return
		}
		h.httpIdle = false
		h.buf = h.buf[:0]
		h.ooo = h.ooo[:0]
		h.next, h.seqKnown = p.TCPSeq, true
	}
	stream := h.feed(p.TCPSeq, p.Payload, &in.Stats)
	if stream == nil {
		return
	}
	consumed := in.stream(h, p, stream)
	if h.mode == modeDone {
		h.release()
		return
	}
	rest := stream[consumed:]
	limit := maxFirstFlight
	if h.mode == modeDNS {
		limit = maxDNSStream
	}
	if len(rest) > limit {
		in.Stats.StreamOverflow++
		h.mode = modeDone
		h.release()
		return
	}
	h.buf = append(h.buf[:0], rest...)
}

// stream examines the in-order bytes of a half and returns how many it
// consumed.
func (in *Inspector) stream(h *half, p *Packet, b []byte) int {
	if h.mode == modeUnknown {
		switch {
		case isTCPDNSPort(p.Key):
			h.mode = modeDNS
		case len(b) > 0 && b[0] == 0x16:
			if len(b) < 6 && plausibleTLSPrefix(b) {
				return 0 // too short to tell yet
			}
			if !tlshello.LooksLikeTLS(b) {
				h.mode = modeDone
				return 0
			}
			h.mode = modeTLS
		case httpStart(b):
			h.mode = modeHTTP
		case len(b) < 21 && methodPrefix(b):
			return 0 // maybe the start of a method, split oddly
		default:
			h.mode = modeDone
			return 0
		}
	}
	switch h.mode {
	case modeTLS:
		total := 0
		for len(b) >= 5 {
			switch b[0] {
			case 20: // change_cipher_spec (TLS 1.3 middlebox compatibility)
				n := 5 + int(binary.BigEndian.Uint16(b[3:5]))
				if len(b) < n {
					return total
				}
				b, total = b[n:], total+n
				continue
			case 22:
			default: // application data, alert, ...: the first flight is over
				h.mode = modeDone
				return total
			}
			if h.hellos > 0 && (len(b) < 6 || b[5] != 1) {
				h.mode = modeDone // a later handshake message that is not a ClientHello
				return total
			}
			msg, status, _ := tlshello.Assemble(b, in.scratch[:0])
			switch status {
			case tlshello.StatusNeedMore:
				return total
			case tlshello.StatusNotTLS:
				h.mode = modeDone
				return total
			}
			in.hello(p, msg, AppTLS, 0)
			h.hellos++
			n := recordsSpan(b, len(msg))
			if n <= 0 || h.hellos >= maxHellos {
				h.mode = modeDone
				return total
			}
			// Keep watching: a second ClientHello follows a
			// HelloRetryRequest, or a client repeats itself.
			b, total = b[n:], total+n
		}
		return total
	case modeHTTP:
		total := 0
		for {
			var r HTTPRequest
			st, n := parseHTTPRequest(b, &r)
			switch st {
			case httpNot:
				h.mode = modeDone
				return total
			case httpNeedMore:
				return total
			}
			in.Stats.HTTPRequests++
			in.obs = append(in.obs, Observation{App: AppHTTP, Packet: p, HTTP: r})
			if n == 0 || !httpStart(b[n:]) {
				// The headers continue past the Host line, or a body
				// follows: wait for the next segment that starts a request.
				h.httpIdle = true
				return len(b)
			}
			b, total = b[n:], total+n
		}
	case modeDNS:
		total := 0
		for len(b) >= 2 {
			n := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+n {
				break
			}
			in.dnsMessage(p, b[2:2+n])
			b, total = b[2+n:], total+2+n
		}
		return total
	}
	return 0
}

func (in *Inspector) dnsMessage(p *Packet, b []byte) {
	k := len(in.obs)
	if k >= len(in.dns) {
		in.dns = append(in.dns, DNSMessage{})
	}
	m := &in.dns[k]
	if !parseDNS(b, m) {
		in.Stats.DNSMalformed++
		return
	}
	in.Stats.DNSMessages++
	if m.Partial {
		in.Stats.DNSPartial++
	}
	in.obs = append(in.obs, Observation{App: AppDNS, Packet: p, DNS: m})
}

func (in *Inspector) hello(p *Packet, msg []byte, app App, version uint32) {
	k := len(in.obs)
	for k >= len(in.hellos) {
		in.hellos = append(in.hellos, tlshello.ClientHello{})
	}
	h := &in.hellos[k]
	if err := tlshello.ParseInto(h, msg); err != nil {
		in.Stats.TLSMalformed++
		return
	}
	if app == AppQUIC {
		in.Stats.QUICHellos++
	} else {
		in.Stats.TLSHellos++
	}
	in.obs = append(in.obs, Observation{App: app, Packet: p, Hello: h, QUICVersion: version})
}

// feed adds one segment to the half and returns the in-order bytes now
// available from the first unconsumed byte, or nil when the segment added
// nothing in order. The result may borrow data.
func (h *half) feed(seq uint32, data []byte, st *InspectStats) []byte {
	if !h.seqKnown {
		h.next, h.seqKnown = seq, true
	}
	if d := int32(seq - h.next); d > 0 {
		held := 0
		for _, o := range h.ooo {
			held += len(o.data)
		}
		if len(h.ooo) >= maxOOOSegments || held+len(data) > maxDNSStream {
			st.OOODropped++
			return nil
		}
		h.ooo = append(h.ooo, oooSeg{seq: seq, data: append([]byte(nil), data...)})
		return nil
	} else if d < 0 {
		if int(-d) >= len(data) {
			return nil // a retransmission of bytes we have
		}
		data = data[-d:]
	}
	h.next += uint32(len(data))
	out := data
	if len(h.buf) > 0 {
		h.buf = append(h.buf, data...)
		out = h.buf
	}
	for merged := true; merged && len(h.ooo) > 0; {
		merged = false
		for i := 0; i < len(h.ooo); i++ {
			s := h.ooo[i]
			if int32(s.seq-h.next) > 0 {
				continue
			}
			end := s.seq + uint32(len(s.data))
			if over := int32(end - h.next); over > 0 {
				if len(h.buf) == 0 || &out[0] != &h.buf[0] {
					h.buf = append(h.buf[:0], out...)
				}
				h.buf = append(h.buf, s.data[len(s.data)-int(over):]...)
				out = h.buf
				h.next = end
			}
			h.ooo = append(h.ooo[:i], h.ooo[i+1:]...)
			i--
			merged = true
		}
	}
	return out
}

func (h *half) release() {
	h.buf, h.ooo = nil, nil
}

func plausibleTLSPrefix(b []byte) bool {
	return len(b) < 2 || b[1] == 3
}

// methodPrefix reports whether b could be the start of an HTTP method
// token cut short by a segment boundary.
func methodPrefix(b []byte) bool {
	for _, c := range b {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return len(b) > 0
}

// recordsSpan returns how many bytes of TLS records at the start of b carry
// a handshake message of msgLen bytes, or 0 if they cannot be walked.
func recordsSpan(b []byte, msgLen int) int {
	off, got := 0, 0
	for got < msgLen {
		if len(b)-off < 5 || b[off] != 22 {
			return 0
		}
		n := int(binary.BigEndian.Uint16(b[off+3 : off+5]))
		off += 5 + n
		got += n
		if off > len(b) {
			return 0
		}
	}
	if got != msgLen {
		return 0 // another handshake message shares the last record
	}
	return off
}
