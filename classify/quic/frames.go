package quic

// Frame types that may appear in a client Initial packet (RFC 9000 Section 12.4, Table 3).
const (
	framePadding      = 0x00
	framePing         = 0x01
	frameAck          = 0x02
	frameAckECN       = 0x03
	frameCrypto       = 0x06
	frameConnClose    = 0x1c
	frameConnCloseApp = 0x1d // not allowed in Initial, but harmless and parseable
)

// addPayload walks the plaintext frames of one Initial packet in the frame encoding of its
// version.
func (c *Conn) addPayload(vi versionInfo, p []byte) error {
	if vi.quicCrypto {
		return c.addGoogleFrames(p)
	}
	return c.addFrames(p)
}

// addFrames walks the plaintext frames of one Initial packet and adds CRYPTO data to the
// stream. Data of frames before a malformed or unknown frame is kept: the packet has
// authenticated, so it is the client's own data.
func (c *Conn) addFrames(p []byte) error {
	var err error
	for len(p) > 0 && err == nil {
		typ, n := readVarint(p)
		if n == 0 {
			return ErrMalformed
		}
		p = p[n:]
		switch typ {
		case framePadding:
			for len(p) > 0 && p[0] == 0 {
				p = p[1:]
			}
		case framePing:
		case frameAck, frameAckECN:
			p, err = skipAck(p, typ == frameAckECN)
		case frameCrypto:
			p, err = c.readCrypto(p)
		case frameConnClose, frameConnCloseApp:
			p, err = skipConnClose(p, typ == frameConnClose)
		default:
			return ErrFrame
		}
	}
	if err != nil {
		return err
	}
	return c.checkHello()
}

// readCrypto reads the body of a CRYPTO frame (RFC 9000 Section 19.6: offset and length as
// variable-length integers, then the data), adds the data to the stream and returns the
// bytes after the frame.
func (c *Conn) readCrypto(p []byte) ([]byte, error) {
	off, n := readVarint(p)
	if n == 0 {
		return p, ErrMalformed
	}
	p = p[n:]
	length, n := readVarint(p)
	if n == 0 || length > uint64(len(p)-n) {
		return p, ErrMalformed
	}
	data := p[n : n+int(length)]
	return p[n+int(length):], c.addCrypto(off, data)
}

// skipVarints skips n variable-length integers.
func skipVarints(p []byte, n int) ([]byte, error) {
	for range n {
		_, k := readVarint(p)
		if k == 0 {
			return p, ErrMalformed
		}
		p = p[k:]
	}
	return p, nil
}

// skipAck skips the body of an ACK frame (RFC 9000 Section 19.3). The range count is
// attacker-controlled, but every range consumes at least two bytes, so the loop is
// bounded by the packet.
func skipAck(p []byte, ecn bool) ([]byte, error) {
	p, err := skipVarints(p, 2) // Largest Acknowledged, ACK Delay
	if err != nil {
		return p, err
	}
	count, k := readVarint(p)
	if k == 0 || count > uint64(len(p)) {
		return p, ErrMalformed
	}
	p = p[k:]
	if p, err = skipVarints(p, 1+2*int(count)); err != nil { // First ACK Range, ranges
		return p, err
	}
	if ecn {
		return skipVarints(p, 3)
	}
	return p, nil
}

// skipConnClose skips a CONNECTION_CLOSE frame body (RFC 9000 Section 19.19).
func skipConnClose(p []byte, transport bool) ([]byte, error) {
	n := 1 // Error Code
	if transport {
		n = 2 // and Frame Type
	}
	p, err := skipVarints(p, n)
	if err != nil {
		return p, err
	}
	l, k := readVarint(p)
	if k == 0 || l > uint64(len(p)-k) {
		return p, ErrMalformed
	}
	return p[k+int(l):], nil
}

// addCrypto writes CRYPTO data at offset off and records the range.
func (c *Conn) addCrypto(off uint64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if off > maxStream || uint64(len(data)) > maxStream-off {
		return ErrLimit
	}
	lo, hi := int(off), int(off)+len(data)
	if !c.addRange(lo, hi) {
		return ErrLimit
	}
	if hi > len(c.stream) {
		if hi > cap(c.stream) {
			grown := make([]byte, hi, min(max(hi, 2*cap(c.stream), 4096), maxStream))
			copy(grown, c.stream)
			c.stream = grown
		}
		c.stream = c.stream[:hi]
	}
	copy(c.stream[lo:hi], data)
	return nil
}

// addRange merges [lo, hi) into the sorted, disjoint, non-adjacent range list. It reports
// false, changing nothing, when the list would exceed maxRanges.
func (c *Conn) addRange(lo, hi int) bool {
	r := c.ranges[:c.nrange]
	i := 0
	for i < len(r) && r[i].hi < lo {
		i++
	}
	j := i
	for j < len(r) && r[j].lo <= hi {
		lo, hi = min(lo, r[j].lo), max(hi, r[j].hi)
		j++
	}
	switch {
	case i == j: // no overlap: insert at i
		if c.nrange == maxRanges {
			return false
		}
		copy(c.ranges[i+1:c.nrange+1], c.ranges[i:c.nrange])
		c.nrange++
	case j > i+1: // merged several: close the hole
		copy(c.ranges[i+1:], c.ranges[j:c.nrange])
		c.nrange -= j - i - 1
	}
	c.ranges[i] = span{lo, hi}
	return true
}

// checkHello inspects the contiguous prefix of the stream and sets complete once the
// ClientHello is whole.
func (c *Conn) checkHello() error {
	if c.nrange == 0 || c.ranges[0].lo != 0 {
		return nil
	}
	have := c.ranges[0].hi
	if have < 1 {
		return nil
	}
	if c.stream[0] != 1 { // HandshakeType client_hello
		return ErrNotClientHello
	}
	if have < 4 {
		return nil
	}
	n := 4 + (int(c.stream[1])<<16 | int(c.stream[2])<<8 | int(c.stream[3]))
	if n > maxStream {
		return ErrLimit
	}
	c.helloLen = n
	if have >= n {
		c.complete = true
	}
	return nil
}
