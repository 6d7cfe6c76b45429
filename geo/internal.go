package geo

import "net/netip"

// internalReason says why a is not a public internet destination, or ""
// when it is one. a must be unmapped.
func internalReason(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "internal address: unspecified"
	case a.IsLoopback():
		return "internal address: loopback"
	case a.IsMulticast():
		return "internal address: multicast"
	case a.IsLinkLocalUnicast():
		return "internal address: link-local"
	case a.IsPrivate() && a.Is4():
		return "internal address: private (RFC 1918)"
	case a.IsPrivate():
		return "internal address: unique local (RFC 4193)"
	}
	if a.Is4() {
		b := a.As4()
		switch {
		case b[0] == 0:
			return "internal address: this network (RFC 791)"
		case b[0] == 100 && b[1]&0xc0 == 64:
			return "internal address: shared address space, CGNAT (RFC 6598)"
		case b[0] == 192 && b[1] == 0 && b[2] == 0:
			return "internal address: IETF protocol assignments (RFC 6890)"
		case b[0] == 192 && b[1] == 0 && b[2] == 2,
			b[0] == 198 && b[1] == 51 && b[2] == 100,
			b[0] == 203 && b[1] == 0 && b[2] == 113:
			return "internal address: documentation (RFC 5737)"
		case b[0] == 198 && b[1]&0xfe == 18:
			return "internal address: benchmarking (RFC 2544)"
		case b[0] >= 240:
			return "internal address: reserved (RFC 1112) or broadcast"
		}
		return ""
	}
	b := a.As16()
	switch {
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8:
		return "internal address: documentation (RFC 3849)"
	case b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0:
		return "internal address: discard-only (RFC 6666)"
	}
	return ""
}
