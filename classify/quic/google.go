package quic

import "encoding/binary"

// Google QUIC Q050 protects its Initial packets as the IETF drafts do, but what is inside
// is Google QUIC: frames in Google QUIC's encoding, and a CRYPTO stream that carries a QUIC
// Crypto handshake message (a CHLO) rather than a TLS ClientHello.

// Google QUIC frame types a client Initial carries. CRYPTO has the body of the IETF frame
// (offset and length as variable-length integers, then the data); ACK is a special type
// whose low six bits give its layout.
const (
	gframePadding  = 0x00
	gframePing     = 0x07
	gframeCrypto   = 0x08
	gframeAckMask  = 0xc0
	gframeAck      = 0x40
	gframeAckBlock = 0x20 // the ACK frame has a block count
)

// maxCryptoEntries is QUIC Crypto's limit on the entries of a handshake message.
const maxCryptoEntries = 128

// addGoogleFrames walks the plaintext frames of one Q050 Initial packet and adds CRYPTO
// data to the stream. Like addFrames, it keeps the data of frames before one it cannot
// read.
func (c *Conn) addGoogleFrames(p []byte) error {
	var err error
	for len(p) > 0 && err == nil {
		typ := p[0]
		p = p[1:]
		switch {
		case typ == gframePadding:
			for len(p) > 0 && p[0] == 0 {
				p = p[1:]
			}
		case typ == gframePing:
		case typ == gframeCrypto:
			p, err = c.readCrypto(p)
		case typ&gframeAckMask == gframeAck:
			p, err = skipGoogleAck(typ, p)
		default:
			return ErrFrame
		}
	}
	if err != nil {
		return err
	}
	return c.checkCHLO()
}

// skipGoogleAck skips the body of a Google QUIC ACK frame of type 01nullmm: the largest
// acknowledged packet number (ll selects 1, 2, 4 or 6 bytes), the ACK delay (2 bytes), a
// block count (1 byte, only when n is set), the first block length (mm selects 1, 2, 4 or
// 6 bytes), for each further block a gap (1 byte) and a length (mm), a timestamp count (1
// byte) and the timestamps: 1+4 bytes for the first, 1+2 for each further one. Every
// count is one byte, so the frame is bounded without reading past the packet.
func skipGoogleAck(typ byte, p []byte) ([]byte, error) {
	sizes := [4]int{1, 2, 4, 6}
	ll, mm := sizes[typ>>2&3], sizes[typ&3]
	n := ll + 2
	blocks := 0
	if typ&gframeAckBlock != 0 {
		if len(p) <= n {
			return p, ErrMalformed
		}
		blocks = int(p[n])
		n++
	}
	n += mm + blocks*(1+mm)
	if len(p) <= n {
		return p, ErrMalformed
	}
	if ts := int(p[n]); ts > 0 {
		n += 5 + 3*(ts-1)
	}
	n++
	if len(p) < n {
		return p, ErrMalformed
	}
	return p[n:], nil
}

// checkCHLO inspects the contiguous prefix of the stream and sets complete once the QUIC
// Crypto handshake message is whole. The message is the tag "CHLO", an entry count and
// two bytes of padding (little-endian), a table of (tag, end offset) pairs of 4 bytes
// each, then the values; the last pair's end offset is the length of the values.
func (c *Conn) checkCHLO() error {
	if c.nrange == 0 || c.ranges[0].lo != 0 {
		return nil
	}
	s := c.stream[:c.ranges[0].hi]
	if n := min(len(s), 4); string(s[:n]) != "CHLO"[:n] {
		return ErrNotClientHello
	}
	if len(s) < 8 {
		return nil
	}
	entries := int(binary.LittleEndian.Uint16(s[4:6]))
	if entries > maxCryptoEntries {
		return ErrMalformed
	}
	table := 8 + 8*entries
	if len(s) < table {
		return nil
	}
	values := 0
	if entries > 0 {
		values = int(binary.LittleEndian.Uint32(s[table-4 : table]))
	}
	if values > maxStream-table {
		return ErrLimit
	}
	c.helloLen = table + values
	if len(s) >= c.helloLen {
		c.complete = true
	}
	return nil
}
