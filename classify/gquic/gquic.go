package gquic

import (
	"bytes"
	"encoding/binary"
)

// CHLO is what a client hello says about the connection.
type CHLO struct {
	// Version is the gQUIC version as its four ASCII bytes, big-endian
	// ('Q'<<24 | '0'<<16 | '4'<<8 | '6' for Q046).
	Version uint32
	// CID is the connection ID (8 bytes in every version read here); 0
	// when the packet carries none.
	CID uint64
	// SNI and UAID are the values of the SNI and UAID (user agent) tags,
	// nil when absent. They borrow the datagram.
	SNI, UAID []byte
}

// Header flags of the public header (Q024..Q043).
const (
	flagVersion = 0x01
	flagReset   = 0x02
	flagCID     = 0x08
)

const (
	hashLen    = 12  // FNV-1a 128 truncated: the null encryption's authentication hash
	maxEntries = 128 // QUIC Crypto's kMaxEntries
)

var tagCHLO = []byte("CHLO")

// IsVersion reports whether v is a Google QUIC version with QUIC Crypto:
// "Q0" followed by two digits.
func IsVersion(v uint32) bool {
	return v>>16 == 'Q'<<8|'0' && isDigit(byte(v>>8)) && isDigit(byte(v))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// versionNumber returns 46 for Q046.
func versionNumber(v uint32) int { return int(byte(v>>8)-'0')*10 + int(byte(v)-'0') }

// Header reads the header of a client datagram: its version (0 when the
// packet does not say, known is then the connection's, from an earlier
// packet), its connection ID and where the packet's payload (the hash and
// frames) starts. ok is false when b is not a gQUIC client packet this
// package reads.
func Header(b []byte, known uint32) (version uint32, cid uint64, payload int, ok bool) {
	if len(b) < 1 {
		return 0, 0, 0, false
	}
	if b[0]&0x80 != 0 {
		return longHeader(b)
	}
	flags := b[0]
	if flags&flagReset != 0 || flags&0x40 != 0 { // public reset; multipath
		return 0, 0, 0, false
	}
	// Before Q033 bits 0x0c are the connection ID's length (0, 1, 4 or 8
	// bytes); from Q033 on 0x08 is an 8-byte ID and 0x04 a diversification
	// nonce, which only servers send (a client's 0x04 is ignored, as tshark
	// does). The version follows the ID, so both readings are tried.
	cidLen := func(v uint32) int {
		if versionNumber(v) < 33 {
			return [4]int{0, 1, 4, 8}[flags>>2&3]
		}
		if flags&flagCID != 0 {
			return 8
		}
		return 0
	}
	version = known
	if flags&flagVersion != 0 {
		version = 0
		for _, n := range [2]int{8, [4]int{0, 1, 4, 8}[flags>>2&3]} {
			if len(b) >= 1+n+4 {
				if v := binary.BigEndian.Uint32(b[1+n:]); IsVersion(v) && cidLen(v) == n {
					version = v
					break
				}
			}
		}
	}
	if !IsVersion(version) || versionNumber(version) > 43 {
		return 0, 0, 0, false
	}
	off := 1 + cidLen(version)
	if len(b) < off {
		return 0, 0, 0, false
	}
	cid = readCID(b[1:off])
	if flags&flagVersion != 0 {
		off += 4
	}
	off += [4]int{1, 2, 4, 6}[flags>>4&3] // packet number
	if len(b) < off {
		return 0, 0, 0, false
	}
	return version, cid, off, true
}

// readCID returns a connection ID of up to 8 bytes as a number.
func readCID(b []byte) uint64 {
	var v uint64
	for i, c := range b {
		v |= uint64(c) << (8 * i)
	}
	return v
}

// longHeader reads a Q046 long header: flags, version, connection ID
// lengths (nibbles, 0 or n+3), the IDs, a packet number of 1..4 bytes.
func longHeader(b []byte) (version uint32, cid uint64, payload int, ok bool) {
	if len(b) < 6 {
		return 0, 0, 0, false
	}
	version = binary.BigEndian.Uint32(b[1:5])
	if !IsVersion(version) || versionNumber(version) < 44 || versionNumber(version) > 49 {
		return 0, 0, 0, false
	}
	cidLen := func(n byte) int {
		if n == 0 {
			return 0
		}
		return int(n) + 3
	}
	dl, sl := cidLen(b[5]>>4), cidLen(b[5]&15)
	off := 6
	if len(b) < off+dl+sl {
		return 0, 0, 0, false
	}
	if dl == 8 {
		cid = binary.BigEndian.Uint64(b[off:])
	}
	off += dl + sl + int(b[0]&3) + 1
	if len(b) < off {
		return 0, 0, 0, false
	}
	return version, cid, off, true
}

// Parse reads a client datagram and the CHLO in it. known is the
// connection's version when an earlier packet gave it (packets after the
// first may leave it out), else 0. ok is false when b is not a gQUIC
// packet or holds no CHLO.
func Parse(b []byte, known uint32, c *CHLO) (ok bool) {
	*c = CHLO{}
	version, cid, off, ok := Header(b, known)
	if !ok {
		return false
	}
	c.Version, c.CID = version, cid
	off += hashLen
	if versionNumber(version) < 34 {
		off++ // private flags (entropy, FEC group), removed in Q034
	}
	if len(b) < off {
		return false
	}
	msg := findCHLO(b[off:], version, [4]int{1, 2, 4, 6}[b[0]>>4&3])
	if msg == nil {
		return false
	}
	return readCHLO(msg, c)
}

// ParseMessage reads a QUIC Crypto CHLO message on its own, as Q050 sends
// it in CRYPTO frames: m starts with the tag "CHLO". It sets c.SNI and
// c.UAID (pointing into m) and leaves c.Version and c.CID zero. ok is false
// when m is no CHLO or its tag table is not consistent.
func ParseMessage(m []byte, c *CHLO) (ok bool) {
	*c = CHLO{}
	if !readCHLO(m, c) {
		*c = CHLO{} // a table that fails late may have set a value
		return false
	}
	return true
}

// findCHLO walks the frames of a packet to the STREAM frame of stream 1
// that starts with a CHLO and returns its data. pnLen is the packet number
// length (STOP_WAITING uses it).
func findCHLO(f []byte, version uint32, pnLen int) []byte {
	be := versionNumber(version) >= 39 // frames are big-endian from Q039 on
	u := func(b []byte) uint64 {       // an unsigned field of len(b) bytes
		var v uint64
		for i := range b {
			if be {
				v = v<<8 | uint64(b[i])
			} else {
				v |= uint64(b[i]) << (8 * i)
			}
		}
		return v
	}
	for len(f) > 0 {
		t := f[0]
		var skip int
		switch {
		case t&0x80 != 0: // STREAM: 1fdooossss
			idLen := int(t&3) + 1
			offLen := int(t >> 2 & 7)
			if offLen > 0 {
				offLen++
			}
			hl := 1 + idLen + offLen
			if t&0x20 != 0 {
				hl += 2
			}
			if len(f) < hl {
				return nil
			}
			id := u(f[1 : 1+idLen])
			data := f[hl:]
			if t&0x20 != 0 {
				n := int(u(f[hl-2 : hl]))
				if n > len(data) {
					return nil
				}
				data = data[:n]
			}
			if id == 1 && bytes.HasPrefix(data, tagCHLO) {
				return data
			}
			if t&0x20 == 0 {
				return nil // the frame runs to the end of the packet
			}
			skip = hl + len(data)
		case t == 0x00: // PADDING: the rest of the packet
			return nil
		case t == 0x07: // PING
			skip = 1
		case t == 0x06: // STOP_WAITING: [entropy before Q034] least unacked delta
			skip = 1 + pnLen
			if versionNumber(version) < 34 {
				skip++
			}
		case t == 0x04: // WINDOW_UPDATE: stream id (4), byte offset (8)
			skip = 13
		case t == 0x05: // BLOCKED: stream id (4)
			skip = 5
		case t == 0x01: // RST_STREAM: stream id (4), byte offset (8), error code (4)
			skip = 17
		default: // ACK and the rest: their layout varies; look for the tag
			return scanCHLO(f)
		}
		if skip > len(f) {
			return nil
		}
		f = f[skip:]
	}
	return nil
}

// scanCHLO finds the first CHLO tag in f whose message reads as one.
func scanCHLO(f []byte) []byte {
	for {
		i := bytes.Index(f, tagCHLO)
		if i < 0 {
			return nil
		}
		var c CHLO
		if readCHLO(f[i:], &c) {
			return f[i:]
		}
		f = f[i+1:]
	}
}

// readCHLO reads a QUIC Crypto handshake message: "CHLO", entry count
// (uint16), padding (uint16), count × (tag, end offset uint32), values. The
// message may be cut short by the packet (a CHLO can span two); a value
// that ends within the bytes at hand is still read. ok is false when the
// table is not consistent.
func readCHLO(m []byte, c *CHLO) (ok bool) {
	if len(m) < 8 || !bytes.Equal(m[:4], tagCHLO) {
		return false
	}
	n := int(binary.LittleEndian.Uint16(m[4:6]))
	if n == 0 || n > maxEntries || len(m) < 8+8*n {
		return false
	}
	table, values := m[8:8+8*n], m[8+8*n:]
	prev := uint32(0)
	for i := 0; i < n; i++ {
		e := table[8*i:]
		end := binary.LittleEndian.Uint32(e[4:8])
		if end < prev { // end offsets never go back
			return false
		}
		if int64(end) <= int64(len(values)) {
			v := values[prev:end]
			switch string(e[:4]) {
			case "SNI\x00":
				c.SNI = v
			case "UAID":
				c.UAID = v
			}
		}
		prev = end
	}
	return true
}
