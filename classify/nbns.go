package classify

import (
	"encoding/binary"
	"net/netip"
)

// maxNBNSAddrs bounds the addresses an NBNSMessage reports.
const maxNBNSAddrs = 4

// NBNSMessage is one NetBIOS name service message (RFC 1002 section 4.2):
// a query, registration, release or refresh, or the answer to one. It is a
// fixed-size value; decoding it allocates nothing.
type NBNSMessage struct {
	ID       uint16
	Response bool
	Opcode   uint8 // 0 query, 5 registration, 6 release, 7 WACK, 8 refresh
	RCode    uint8
	// Name is the first question's name, or the first answer's when there
	// is no question: NameLen bytes of the 15-byte NetBIOS name (trailing
	// spaces removed), and its 16th byte, the suffix (0x00 workstation,
	// 0x20 file server, ...).
	Name    [15]byte
	NameLen uint8
	Suffix  uint8
	HasName bool
	// Group is the G flag of the first NB address (a group name, not one
	// device's).
	Group  bool
	TTL    uint32 // of the first NB record
	Addrs  [maxNBNSAddrs]netip.Addr
	NAddrs uint8
}

// NameString returns the name as egresswatch writes it, as tshark shows
// it: NAME<xx>, the suffix in lower-case hex, and any unprintable byte of
// the name as <xx> too. It allocates.
func (m *NBNSMessage) NameString() string { return string(m.AppendName(nil)) }

// AppendName appends the name, as NameString gives it, to dst.
func (m *NBNSMessage) AppendName(dst []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range m.Name[:m.NameLen] {
		if c < 0x20 || c >= 0x7f {
			dst = append(dst, '<', hex[c>>4], hex[c&15], '>')
			continue
		}
		dst = append(dst, c)
	}
	return append(dst, '<', hex[m.Suffix>>4], hex[m.Suffix&15], '>')
}

// IPAddrs returns the NB addresses. The slice aliases m.
func (m *NBNSMessage) IPAddrs() []netip.Addr { return m.Addrs[:m.NAddrs] }

// parseNBNS reads an NBNS message into m. It returns false when b has no
// header or its first name does not decode.
func parseNBNS(b []byte, m *NBNSMessage) bool {
	*m = NBNSMessage{}
	if len(b) < 12 {
		return false
	}
	m.ID = binary.BigEndian.Uint16(b)
	flags := binary.BigEndian.Uint16(b[2:])
	m.Response = flags&0x8000 != 0
	m.Opcode = uint8(flags>>11) & 0xf
	m.RCode = uint8(flags & 0xf)
	qd := int(binary.BigEndian.Uint16(b[4:]))
	rr := int(binary.BigEndian.Uint16(b[6:])) + int(binary.BigEndian.Uint16(b[8:])) + int(binary.BigEndian.Uint16(b[10:]))
	off := 12
	for i := 0; i < qd; i++ {
		end, ok := m.nbName(b, off)
		if !ok || end+4 > len(b) {
			return m.HasName
		}
		off = end + 4
	}
	for i := 0; i < rr; i++ {
		end, ok := m.nbName(b, off)
		if !ok || end+10 > len(b) {
			return m.HasName
		}
		typ := binary.BigEndian.Uint16(b[end:])
		ttl := binary.BigEndian.Uint32(b[end+4:])
		n := int(binary.BigEndian.Uint16(b[end+8:]))
		rd := end + 10
		if rd+n > len(b) {
			return m.HasName
		}
		if typ == 0x20 { // NB: pairs of flags and IPv4 address
			for j := rd; j+6 <= rd+n; j += 6 {
				if m.NAddrs == 0 {
					m.Group = b[j]&0x80 != 0
					m.TTL = ttl
				}
				if m.NAddrs < maxNBNSAddrs {
					m.Addrs[m.NAddrs] = netip.AddrFrom4([4]byte(b[j+2 : j+6]))
					m.NAddrs++
				}
			}
		}
		off = rd + n
	}
	return m.HasName
}

// nbName reads the NetBIOS name at off (RFC 1001 14.1: a 32-byte
// first-level encoded label, then scope labels; or a pointer) and returns
// the offset after it. The first name read is kept in m.
func (m *NBNSMessage) nbName(b []byte, off int) (int, bool) {
	if off >= len(b) {
		return 0, false
	}
	end := -1
	ptr := off
	for hops := 0; ; hops++ {
		if ptr >= len(b) || hops > 8 {
			return 0, false
		}
		if b[ptr]&0xc0 == 0xc0 { // compression pointer
			if ptr+2 > len(b) {
				return 0, false
			}
			if end < 0 {
				end = ptr + 2
			}
			ptr = int(binary.BigEndian.Uint16(b[ptr:]) & 0x3fff)
			continue
		}
		break
	}
	if b[ptr] != 32 || ptr+33 > len(b) {
		return 0, false
	}
	var name [16]byte
	for i := range 16 {
		hi, lo := b[ptr+1+2*i]-'A', b[ptr+2+2*i]-'A'
		if hi > 15 || lo > 15 {
			return 0, false
		}
		name[i] = hi<<4 | lo
	}
	// Scope labels, up to the root.
	p := ptr + 33
	for {
		if p >= len(b) {
			return 0, false
		}
		if b[p] == 0 {
			p++
			break
		}
		if b[p]&0xc0 == 0xc0 {
			p += 2
			break
		}
		p += 1 + int(b[p])
	}
	if end < 0 {
		end = p
	}
	if end > len(b) {
		return 0, false
	}
	if !m.HasName {
		n := 15
		for n > 0 && name[n-1] == ' ' {
			n--
		}
		copy(m.Name[:], name[:15])
		m.NameLen, m.Suffix, m.HasName = uint8(n), name[15], true
	}
	return end, true
}
