package flow

import (
	"net/netip"
)

// Proto is an IANA IP protocol number.
type Proto uint8

// Transport protocols egresswatch tracks.
const (
	ProtoUnknown Proto = 0
	ICMP         Proto = 1
	TCP          Proto = 6
	UDP          Proto = 17
	ICMPv6       Proto = 58
	SCTP         Proto = 132
)

// String returns the ECS network.transport spelling of p.
func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case ICMP:
		return "icmp"
	case ICMPv6:
		return "ipv6-icmp"
	case SCTP:
		return "sctp"
	}
	return "unknown"
}

// Key identifies one direction-neutral conversation. Src is the side that
// initiated the flow (the local, egress side on a monitored network) once
// the flow table has decided; for a single packet it is the packet's source.
// Key is comparable and can be used as a map key.
type Key struct {
	Proto    Proto
	Src, Dst netip.AddrPort
}

// Reverse returns the key seen from the other side.
func (k Key) Reverse() Key { return Key{Proto: k.Proto, Src: k.Dst, Dst: k.Src} }

// Canonical returns the key with the lower endpoint first, so that both
// directions of a conversation map to the same value, and reports whether
// it swapped the endpoints.
func (k Key) Canonical() (Key, bool) {
	if endpointLess(k.Dst, k.Src) {
		return k.Reverse(), true
	}
	return k, false
}

func endpointLess(a, b netip.AddrPort) bool {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c < 0
	}
	return a.Port() < b.Port()
}

// Hash returns a symmetric 64-bit hash of k: a packet and its reply hash to
// the same value, so flow-sharded workers see both directions. It does not
// allocate.
func (k Key) Hash() uint64 {
	c, _ := k.Canonical()
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(a netip.Addr) {
		b := a.As16()
		for _, x := range b {
			h ^= uint64(x)
			h *= prime
		}
	}
	mix(c.Src.Addr())
	mix(c.Dst.Addr())
	h ^= uint64(c.Src.Port())<<24 | uint64(c.Dst.Port())<<8 | uint64(c.Proto)
	h *= prime
	h ^= h >> 29
	return h
}
