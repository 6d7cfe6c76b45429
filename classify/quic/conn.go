package quic

import (
	"crypto/subtle"
	"encoding/binary"
)

const (
	// maxStream bounds the CRYPTO data a Conn buffers. Real ClientHellos are 0.3 to 12 KiB.
	maxStream = 64 << 10
	// maxRanges bounds the disjoint byte ranges of the CRYPTO stream received so far.
	maxRanges = 32
	// aeadTag is the AEAD_AES_128_GCM tag length; sampleLen the header protection sample.
	aeadTag   = 16
	sampleLen = 16
)

// Result describes the state of a Conn after a Feed.
type Result struct {
	// Version is the QUIC version of the Initial packets (Version1, Version2, 0xff00001d
	// for draft-29, ...); 0 until one Initial has been opened.
	Version uint32
	// DCID is the Destination Connection ID the Initial keys were derived from: the
	// client's original DCID of the current attempt. It aliases Conn memory.
	DCID []byte
	// Hello is the complete ClientHello handshake message (type 1, 3-byte length, body)
	// once Complete; nil before. For VersionQ050 it is the QUIC Crypto CHLO message
	// instead ("CHLO", entry count, tag table, values). It aliases Conn memory.
	Hello []byte
	// Complete reports that the ClientHello is whole; further Feeds change nothing.
	Complete bool
}

// span is a received byte range [lo, hi) of the CRYPTO stream.
type span struct{ lo, hi int }

// Conn holds one client connection attempt's Initial state: the Initial keys and the
// CRYPTO stream reassembly. The zero value is ready to use; see the package documentation
// for the rules on connection IDs, bounds and allocations.
type Conn struct {
	keys    [2]keySet // cache of the two most recent key sets
	cur     int       // index into keys of the latched set, valid when latched
	latched bool

	nextPN int64 // largest packet number opened with the latched keys + 1; 0 for none

	pkt    []byte // private copy of the packet being opened
	stream []byte // CRYPTO stream by offset; bytes outside ranges are garbage
	ranges [maxRanges]span
	nrange int

	helloLen int // total ClientHello length once its header is in, else 0
	complete bool

	mask  [sampleLen]byte
	nonce [12]byte
}

// Reset clears the reassembly state so the Conn can serve another flow. It keeps the
// buffers and the cached key sets.
func (c *Conn) Reset() {
	c.latched = false
	c.nextPN = 0
	c.resetStream()
}

func (c *Conn) resetStream() {
	c.stream = c.stream[:0]
	c.nrange = 0
	c.helloLen = 0
	c.complete = false
}

// result reports the current state.
func (c *Conn) result() Result {
	if !c.latched {
		return Result{}
	}
	k := &c.keys[c.cur]
	r := Result{Version: k.version, DCID: k.dcid[:k.dcidLen:k.dcidLen], Complete: c.complete}
	if c.complete {
		r.Hello = c.stream[:c.helloLen:c.helloLen]
	}
	return r
}

// LooksLikeInitial is a cheap check on a UDP payload: a long header with the fixed bit
// set, a version Feed supports, the Initial packet type and connection ID lengths within
// limits. It does no decryption.
func LooksLikeInitial(b []byte) bool {
	if len(b) < 7 || b[0]&0xc0 != 0xc0 {
		return false
	}
	vi, ok := lookupVersion(binary.BigEndian.Uint32(b[1:5]))
	if !ok || vi.packetType(b[0]) != typeInitial {
		return false
	}
	dl := int(b[5])
	if dl > maxCIDLen || len(b) < 7+dl {
		return false
	}
	return int(b[6+dl]) <= maxCIDLen
}

// Feed decrypts the client Initial packets in one UDP datagram and adds their CRYPTO
// frames. It returns Complete=true once the ClientHello is whole; the caller then stops
// feeding the flow (later calls return the same Result). err is non-nil for datagrams
// that contribute nothing (no Initial, unknown version, authentication failure) and for
// Initials with malformed or disallowed frames; the datagram is then counted and skipped,
// the Conn stays usable. The datagram is neither modified nor retained.
func (c *Conn) Feed(datagram []byte) (Result, error) {
	if c.complete {
		return c.result(), nil
	}
	var (
		err       error
		sawInit   bool
		firstDCID []byte
		d         = datagram
	)
	for len(d) > 0 && !c.complete {
		h, ok := parseLongHeader(d)
		if h.kind == hdrStop {
			break
		}
		if !ok {
			if err == nil {
				err = h.err
			}
			break
		}
		if firstDCID == nil {
			firstDCID = h.dcid
		} else if string(h.dcid) != string(firstDCID) {
			break // RFC 9000 Section 12.2: ignore packets for another connection
		}
		pkt := d[:h.end]
		d = d[h.end:]
		if h.ptype != typeInitial {
			continue
		}
		sawInit = true
		if perr := c.openInitial(h, pkt); perr != nil && err == nil {
			err = perr
		}
	}
	if !sawInit && err == nil {
		err = ErrNoInitial
	}
	return c.result(), err
}

// Header parsing.

const (
	hdrPacket = iota // a long-header packet with a Length field
	hdrStop          // nothing more to process: short header, padding, Retry
)

type longHeader struct {
	kind     int
	err      error
	version  uint32
	vi       versionInfo
	ptype    int
	dcid     []byte
	pnOffset int // offset of the packet number
	end      int // end of the packet in the datagram
}

// parseLongHeader reads the long header at the start of d. ok is false with h.err set for
// headers that cannot be processed.
func parseLongHeader(d []byte) (h longHeader, ok bool) {
	h.kind = hdrPacket
	if d[0]&0x80 == 0 || d[0]&0x40 == 0 {
		// A short header, or bytes that are no QUIC packet (zero padding after coalesced
		// packets). Both end the datagram.
		h.kind = hdrStop
		return h, false
	}
	if len(d) < 7 {
		h.err = ErrMalformed
		return h, false
	}
	h.version = binary.BigEndian.Uint32(d[1:5])
	if h.version == 0 {
		h.err = ErrVersionNegotiation
		return h, false
	}
	vi, known := lookupVersion(h.version)
	if !known {
		h.err = ErrUnknownVersion
		return h, false
	}
	h.vi = vi
	h.ptype = vi.packetType(d[0])
	if h.ptype == typeRetry {
		h.kind = hdrStop // a Retry has no Length field and ends the datagram
		return h, false
	}
	p := 5
	dl := int(d[p])
	p++
	if dl > maxCIDLen || len(d) < p+dl+1 {
		h.err = ErrMalformed
		return h, false
	}
	h.dcid = d[p : p+dl : p+dl]
	p += dl
	sl := int(d[p])
	p++
	if sl > maxCIDLen || len(d) < p+sl {
		h.err = ErrMalformed
		return h, false
	}
	p += sl
	if h.ptype == typeInitial {
		tl, n := readVarint(d[p:])
		if n == 0 || tl > uint64(len(d)-p-n) {
			h.err = ErrMalformed
			return h, false
		}
		p += n + int(tl)
	}
	length, n := readVarint(d[p:])
	if n == 0 || length > uint64(len(d)-p-n) {
		h.err = ErrMalformed
		return h, false
	}
	p += n
	h.pnOffset = p
	h.end = p + int(length)
	return h, true
}

// readVarint decodes a QUIC variable-length integer (RFC 9000 Section 16); n is 0 when b
// is too short.
func readVarint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n
}

// Decryption.

// openInitial removes protection from one Initial packet and adds its CRYPTO frames.
func (c *Conn) openInitial(h longHeader, pkt []byte) error {
	if len(pkt) < h.pnOffset+4+sampleLen {
		return ErrMalformed
	}
	if c.latched {
		k := &c.keys[c.cur]
		if k.version == h.version {
			if payload, pn, ok := c.open(k, c.nextPN, h.pnOffset, pkt); ok {
				c.nextPN = max(c.nextPN, pn+1)
				return c.addPayload(h.vi, payload)
			}
		}
		if k.matches(h.version, h.dcid) {
			return ErrDecrypt // the keys for this DCID were just tried
		}
	}
	// Keys from the packet's own DCID: the first flight of an attempt.
	i := c.slotFor(h.version, h.dcid)
	k := &c.keys[i]
	if !k.matches(h.version, h.dcid) {
		if err := k.derive(h.version, h.vi, h.dcid); err != nil {
			return err
		}
	}
	payload, pn, ok := c.open(k, 0, h.pnOffset, pkt)
	if !ok {
		return ErrDecrypt
	}
	if c.latched {
		c.resetStream() // a new attempt (Retry, or a new connection on the 5-tuple)
	}
	c.latched, c.cur, c.nextPN = true, i, pn+1
	return c.addPayload(h.vi, payload)
}

// slotFor picks the cache slot for (version, dcid): the slot that already holds it, else
// the one not latched.
func (c *Conn) slotFor(version uint32, dcid []byte) int {
	for i := range c.keys {
		if c.keys[i].matches(version, dcid) {
			return i
		}
	}
	if c.latched {
		return 1 - c.cur
	}
	if c.keys[0].ready && !c.keys[1].ready {
		return 1
	}
	return 0
}

// open copies pkt, removes header protection with k and decrypts the payload in place.
// expected is the next packet number expected with k (0 at first). On success it returns
// the plaintext frames and the full packet number.
func (c *Conn) open(k *keySet, expected int64, pnOffset int, pkt []byte) ([]byte, int64, bool) {
	if cap(c.pkt) < len(pkt) {
		c.pkt = make([]byte, len(pkt), max(len(pkt), 1500))
	}
	b := c.pkt[:len(pkt)]
	copy(b, pkt)

	sample := b[pnOffset+4 : pnOffset+4+sampleLen]
	k.hp.Encrypt(c.mask[:], sample)
	b[0] ^= c.mask[0] & 0x0f // long header: four low bits are protected
	pnLen := int(b[0]&3) + 1
	var trunc uint64
	for i := range pnLen {
		b[pnOffset+i] ^= c.mask[1+i]
		trunc = trunc<<8 | uint64(b[pnOffset+i])
	}
	hdrLen := pnOffset + pnLen
	if len(b)-hdrLen < aeadTag {
		return nil, 0, false
	}
	pn := decodePacketNumber(expected, trunc, pnLen*8)
	c.nonce = k.iv
	var pnb [8]byte
	binary.BigEndian.PutUint64(pnb[:], uint64(pn))
	subtle.XORBytes(c.nonce[4:], c.nonce[4:], pnb[:])
	ct := b[hdrLen:]
	plain, err := k.aead.Open(ct[:0], c.nonce[:], ct, b[:hdrLen])
	if err != nil {
		return nil, 0, false
	}
	return plain, pn, true
}

// decodePacketNumber recovers a full packet number from its truncated encoding (RFC 9000
// Appendix A.3).
// expected is the largest packet number received so far plus one.
func decodePacketNumber(expected int64, truncated uint64, bits int) int64 {
	win := int64(1) << bits
	hwin := win / 2
	candidate := (expected &^ (win - 1)) | int64(truncated)
	switch {
	case candidate <= expected-hwin && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}

// InitialDCID returns the Destination Connection ID of the first packet of a datagram
// that LooksLikeInitial, aliasing the datagram. A caller that keeps a flow after its
// ClientHello completed can use it to tell a retransmission of the same attempt (same
// DCID) from a new attempt on the same 5-tuple.
func InitialDCID(datagram []byte) ([]byte, bool) {
	if !LooksLikeInitial(datagram) {
		return nil, false
	}
	n := int(datagram[5])
	return datagram[6 : 6+n : 6+n], true
}
