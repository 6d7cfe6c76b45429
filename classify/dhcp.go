package classify

import (
	"encoding/binary"
	"net/netip"
)

// DHCP message types (RFC 2132 option 53), as DHCPMessage.Type holds them
// for DHCPv4.
const (
	DHCPDiscover = 1
	DHCPOffer    = 2
	DHCPRequest  = 3
	DHCPDecline  = 4
	DHCPAck      = 5
	DHCPNak      = 6
	DHCPRelease  = 7
	DHCPInform   = 8
)

// DHCPv6 message types (RFC 8415 section 7.3).
const (
	DHCPv6Solicit     = 1
	DHCPv6Advertise   = 2
	DHCPv6Request     = 3
	DHCPv6Confirm     = 4
	DHCPv6Renew       = 5
	DHCPv6Rebind      = 6
	DHCPv6Reply       = 7
	DHCPv6Release     = 8
	DHCPv6Decline     = 9
	DHCPv6Reconfigure = 10
	DHCPv6InfoRequest = 11
	DHCPv6RelayForw   = 12
	DHCPv6RelayRepl   = 13
)

// maxDHCPAddrs bounds the IA addresses a DHCPv6 message reports.
const maxDHCPAddrs = 4

// DHCPMessage is one DHCPv4 (RFC 2131/2132) or DHCPv6 (RFC 8415) message:
// what says which device asks for or gets which address. Byte slices
// borrow the packet (or fqdn, for a name decoded from DNS wire form);
// they are valid until the next Inspect, and Keep copies them.
type DHCPMessage struct {
	V6 bool
	// Type is the DHCPv4 message type (option 53; 0 for BOOTP without
	// it) or the DHCPv6 msg-type; for a relayed DHCPv6 message, the
	// innermost message's type (Relayed is then set).
	Type    uint8
	Relayed bool
	XID     uint32 // transaction id (DHCPv6: 24 bits)

	// ClientMAC is chaddr (DHCPv4, Ethernet hardware type) or the
	// link-layer address in the client's DUID (DHCPv6 DUID-LLT/LL).
	ClientMAC [6]byte
	HasMAC    bool

	ClientIP    netip.Addr // ciaddr
	AssignedIP  netip.Addr // yiaddr
	RelayIP     netip.Addr // giaddr
	RequestedIP netip.Addr // option 50
	ServerID    netip.Addr // option 54
	LeaseTime   uint32     // option 51 (DHCPv6: the first IA address's valid lifetime), seconds
	HasLease    bool
	Overload    uint8 // option 52: 1 file, 2 sname, 3 both

	Hostname    []byte // option 12
	FQDN        []byte // option 81 (DHCPv6 option 39), dotted
	ClientID    []byte // option 61, type byte first (DHCPv6: the client DUID)
	VendorClass []byte // option 60
	DomainName  []byte // option 15
	CircuitID   []byte // option 82 sub-option 1
	RemoteID    []byte // option 82 sub-option 2

	Addrs  [maxDHCPAddrs]netip.Addr // DHCPv6 IA_NA/IA_TA addresses
	NAddrs uint8

	fqdn [255]byte
}

// IAAddrs returns the DHCPv6 IA addresses. The slice aliases m.
func (m *DHCPMessage) IAAddrs() []netip.Addr { return m.Addrs[:m.NAddrs] }

// isDHCPPort: BOOTP server and client ports.
func isDHCPPort(p uint16) bool { return p == 67 || p == 68 }

// isDHCPv6Port: DHCPv6 client and server ports.
func isDHCPv6Port(p uint16) bool { return p == 546 || p == 547 }

var dhcpMagic = [4]byte{99, 130, 83, 99}

// parseDHCPv4 reads a DHCPv4 message into m. It returns false, with m in
// any state, when b is not one: shorter than the fixed part with the magic
// cookie, or not a BOOTP op. Options cut short end the options read; what
// was read before stays.
func parseDHCPv4(b []byte, m *DHCPMessage) bool {
	*m = DHCPMessage{}
	if len(b) < 240 || (b[0] != 1 && b[0] != 2) || [4]byte(b[236:240]) != dhcpMagic {
		return false
	}
	m.XID = binary.BigEndian.Uint32(b[4:8])
	m.ClientIP = addr4(b[12:16])
	m.AssignedIP = addr4(b[16:20])
	m.RelayIP = addr4(b[24:28])
	if b[1] == 1 && b[2] == 6 { // Ethernet
		m.ClientMAC, m.HasMAC = [6]byte(b[28:34]), true
	}
	m.dhcpOptions(b[240:])
	if m.Overload&1 != 0 {
		m.dhcpOptions(b[108:236]) // file
	}
	if m.Overload&2 != 0 {
		m.dhcpOptions(b[44:108]) // sname
	}
	return true
}

// addr4 returns the IPv4 address in b (4 bytes); the zero Addr for 0.0.0.0.
func addr4(b []byte) netip.Addr {
	a := netip.AddrFrom4([4]byte(b))
	if a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}

// dhcpOptions reads one DHCPv4 options area. The first instance of an
// option wins.
func (m *DHCPMessage) dhcpOptions(b []byte) {
	for len(b) > 0 {
		code := b[0]
		if code == 0 {
			b = b[1:]
			continue
		}
		if code == 255 || len(b) < 2 || len(b) < 2+int(b[1]) {
			return
		}
		v := b[2 : 2+int(b[1]) : 2+int(b[1])]
		b = b[2+len(v):]
		switch code {
		case 53:
			if len(v) == 1 && m.Type == 0 {
				m.Type = v[0]
			}
		case 12:
			setOnce(&m.Hostname, v)
		case 15:
			setOnce(&m.DomainName, v)
		case 50:
			if len(v) == 4 && !m.RequestedIP.IsValid() {
				m.RequestedIP = addr4(v)
			}
		case 51:
			if len(v) == 4 && !m.HasLease {
				m.LeaseTime, m.HasLease = binary.BigEndian.Uint32(v), true
			}
		case 52:
			if len(v) == 1 && m.Overload == 0 {
				m.Overload = v[0] & 3
			}
		case 54:
			if len(v) == 4 && !m.ServerID.IsValid() {
				m.ServerID = addr4(v)
			}
		case 60:
			setOnce(&m.VendorClass, v)
		case 61:
			setOnce(&m.ClientID, v)
		case 81:
			// flags, rcode1, rcode2, then the name: DNS wire form when
			// the E bit is set, ASCII otherwise (RFC 4702).
			if len(v) >= 3 && m.FQDN == nil {
				if v[0]&0x04 != 0 {
					m.FQDN = m.wireName(v[3:])
				} else {
					m.FQDN = v[3:]
				}
			}
		case 82:
			m.relayAgent(v)
		}
	}
}

func setOnce(dst *[]byte, v []byte) {
	if *dst == nil {
		*dst = v
	}
}

// relayAgent reads the circuit and remote ids of option 82.
func (m *DHCPMessage) relayAgent(v []byte) {
	for len(v) >= 2 && len(v) >= 2+int(v[1]) {
		s := v[2 : 2+int(v[1])]
		switch v[0] {
		case 1:
			setOnce(&m.CircuitID, s)
		case 2:
			setOnce(&m.RemoteID, s)
		}
		v = v[2+len(s):]
	}
}

// wireName decodes an uncompressed DNS name (RFC 1035 3.1) into m.fqdn in
// dotted form, without the root's trailing dot. A name that does not
// decode, or would not fit, gives what was decoded up to there.
func (m *DHCPMessage) wireName(b []byte) []byte {
	out := m.fqdn[:0]
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 || n > 63 || len(b) < 1+n || len(out)+n+1 > len(m.fqdn) {
			break
		}
		if len(out) > 0 {
			out = append(out, '.')
		}
		out = append(out, b[1:1+n]...)
		b = b[1+n:]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// parseDHCPv6 reads a DHCPv6 message into m, unwrapping relay messages
// (up to a depth of 8). It returns false for a message shorter than its
// header; options cut short end the options read.
func parseDHCPv6(b []byte, m *DHCPMessage) bool {
	*m = DHCPMessage{V6: true}
	for depth := 0; ; depth++ {
		if len(b) < 4 || b[0] == 0 {
			return false
		}
		if b[0] != DHCPv6RelayForw && b[0] != DHCPv6RelayRepl {
			break
		}
		// msg-type, hop-count, link-address, peer-address, options.
		if len(b) < 34 || depth == 8 {
			return false
		}
		m.Relayed = true
		inner := findOption6(b[34:], 9)
		if inner == nil {
			m.Type = b[0]
			return true
		}
		b = inner
	}
	m.Type = b[0]
	m.XID = uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	m.dhcp6Options(b[4:], 0)
	return true
}

// findOption6 returns the value of the first option code in a DHCPv6
// options area, or nil.
func findOption6(b []byte, code uint16) []byte {
	for len(b) >= 4 {
		c, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+n {
			return nil
		}
		if c == code {
			return b[4 : 4+n : 4+n]
		}
		b = b[4+n:]
	}
	return nil
}

// dhcp6Options reads a DHCPv6 options area; depth counts IA nesting.
func (m *DHCPMessage) dhcp6Options(b []byte, depth int) {
	for len(b) >= 4 {
		code, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+n {
			return
		}
		v := b[4 : 4+n : 4+n]
		b = b[4+n:]
		switch code {
		case 1: // client identifier: the DUID
			if m.ClientID == nil && depth == 0 {
				m.ClientID = v
				m.duidMAC(v)
			}
		case 3: // IA_NA: IAID, T1, T2, options
			if len(v) >= 12 && depth == 0 {
				m.dhcp6Options(v[12:], 1)
			}
		case 4: // IA_TA: IAID, options
			if len(v) >= 4 && depth == 0 {
				m.dhcp6Options(v[4:], 1)
			}
		case 5: // IAADDR: address, preferred and valid lifetimes, options
			if len(v) >= 24 && depth == 1 && m.NAddrs < maxDHCPAddrs {
				m.Addrs[m.NAddrs] = netip.AddrFrom16([16]byte(v[:16]))
				if m.NAddrs == 0 {
					m.LeaseTime, m.HasLease = binary.BigEndian.Uint32(v[20:24]), true
				}
				m.NAddrs++
			}
		case 39: // client FQDN: flags, then the name in DNS wire form
			if len(v) >= 1 && m.FQDN == nil && depth == 0 {
				m.FQDN = m.wireName(v[1:])
			}
		}
	}
}

// duidMAC takes the link-layer address of an Ethernet DUID-LLT or DUID-LL.
func (m *DHCPMessage) duidMAC(d []byte) {
	if len(d) < 4 || binary.BigEndian.Uint16(d[2:]) != 1 {
		return
	}
	var ll []byte
	switch binary.BigEndian.Uint16(d) {
	case 1: // DUID-LLT: type, hardware type, time, address
		if len(d) >= 8 {
			ll = d[8:]
		}
	case 3: // DUID-LL: type, hardware type, address
		ll = d[4:]
	}
	if len(ll) == 6 {
		m.ClientMAC, m.HasMAC = [6]byte(ll), true
	}
}
