package geo

import "net/netip"

// NAT64 (RFC 6146) lets an IPv6-only client reach an IPv4 server through
// an address that embeds the server's IPv4 address in a NAT64 prefix
// (RFC 6052). Such a destination is placed where the IPv4 address is, and
// the placement says so: every source it names (CountrySource, GeoIPSource,
// ASSource, and Reason when indeterminate) gets the prefix
// NAT64Marker + the embedded address + " ", e.g.
// "nat64:203.0.113.7 geoip:GeoLite2-Country".

// NAT64Marker starts the sources of a placement made through NAT64.
const NAT64Marker = "nat64:"

// nat64Embedded returns the IPv4 address a NAT64 address carries, for
// the well-known prefix 64:ff9b::/96 (RFC 6052) and the local-use prefix
// 64:ff9b:1::/48 (RFC 8215). In the local-use prefix the operator picks
// the prefix length; a /96 (bytes 6 to 11 zero) and a /48 (the address in
// bytes 6, 7, 9 and 10 around the zero u octet, RFC 6052 section 2.2) are
// read; other lengths are not recognised.
func nat64Embedded(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() || a.Is4In6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	if b[0] != 0x00 || b[1] != 0x64 || b[2] != 0xff || b[3] != 0x9b {
		return netip.Addr{}, false
	}
	zero := func(s []byte) bool {
		for _, c := range s {
			if c != 0 {
				return false
			}
		}
		return true
	}
	switch {
	case zero(b[4:12]): // 64:ff9b::/96
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case b[4] == 0 && b[5] == 1 && zero(b[6:12]): // 64:ff9b:1::/96
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case b[4] == 0 && b[5] == 1 && b[8] == 0 && zero(b[11:16]): // 64:ff9b:1::/48
		return netip.AddrFrom4([4]byte{b[6], b[7], b[9], b[10]}), true
	}
	return netip.Addr{}, false
}

// throughNAT64 places a NAT64 address as the IPv4 address it embeds;
// ok is false for any other address.
func (s *state) throughNAT64(a netip.Addr) (p Placement, ok bool) {
	v4, ok := nat64Embedded(a)
	if !ok {
		return p, false
	}
	p = s.lookup(v4)
	mark := NAT64Marker + v4.String() + " "
	for _, src := range []*string{&p.CountrySource, &p.GeoIPSource, &p.ASSource, &p.Reason} {
		if *src != "" {
			*src = mark + *src
		}
	}
	return p, true
}
