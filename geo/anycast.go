package geo

import "net/netip"

// anycastName returns the well-known anycast service a belongs to, or "".
// a must be unmapped.
//
// GeoIP data built from registry records places such an address in its
// operator's home country, which says nothing about where a packet to it
// goes: a residency answer for it is indeterminate. The list holds the
// public DNS resolvers whose operators document them as anycast, by /24
// (IPv4) or /48 (IPv6, /32 for AdGuard); add only what an operator states.
func anycastName(a netip.Addr) string {
	if a.Is4() {
		b := a.As4()
		switch [3]byte{b[0], b[1], b[2]} {
		case [3]byte{8, 8, 8}, [3]byte{8, 8, 4}:
			return "Google Public DNS"
		case [3]byte{1, 1, 1}, [3]byte{1, 0, 0}:
			return "Cloudflare DNS"
		case [3]byte{9, 9, 9}, [3]byte{149, 112, 112}:
			return "Quad9 DNS"
		case [3]byte{208, 67, 222}, [3]byte{208, 67, 220}:
			return "OpenDNS"
		case [3]byte{94, 140, 14}, [3]byte{94, 140, 15}:
			return "AdGuard DNS"
		}
		return ""
	}
	b := a.As16()
	switch [6]byte{b[0], b[1], b[2], b[3], b[4], b[5]} {
	case [6]byte{0x20, 0x01, 0x48, 0x60, 0x48, 0x60}:
		return "Google Public DNS"
	case [6]byte{0x26, 0x06, 0x47, 0x00, 0x47, 0x00}:
		return "Cloudflare DNS"
	case [6]byte{0x26, 0x20, 0x00, 0xfe, 0x00, 0x00}:
		return "Quad9 DNS"
	case [6]byte{0x26, 0x20, 0x01, 0x19, 0x00, 0x35}, [6]byte{0x26, 0x20, 0x01, 0x19, 0x00, 0x53}:
		return "OpenDNS"
	}
	if b[0] == 0x2a && b[1] == 0x10 && b[2] == 0x50 && b[3] == 0xc0 {
		return "AdGuard DNS"
	}
	return ""
}
