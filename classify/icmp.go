package classify

import "github.com/egresswatch/egresswatch/flow"

// icmpPorts returns the pseudo-ports an ICMP or ICMPv6 message is tracked
// by, as Zeek keys its ICMP connections (and Community ID v1 hashes them):
// the source "port" is the message type; the destination "port" is the
// type of the matching reply or request when the type has one (echo
// request 8 and echo reply 0, so a reply is the reverse of its request and
// both land in one flow), else the message's code (one-way messages such
// as destination unreachable). ok is false when b is too short for a type
// and code.
func icmpPorts(proto flow.Proto, b []byte) (src, dst uint16, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	typ, code := b[0], b[1]
	other, paired := icmpCounterpart(proto, typ)
	if !paired {
		other = code
	}
	return uint16(typ), uint16(other), true
}

// icmpCounterpart returns the type that answers typ, or that typ answers
// (Zeek's ICMP4_counterpart and ICMP6_counterpart).
func icmpCounterpart(proto flow.Proto, typ uint8) (uint8, bool) {
	pairs := [...][2]uint8{{8, 0}, {13, 14}, {15, 16}, {17, 18}, {10, 9}}
	if proto == flow.ICMPv6 {
		pairs = [...][2]uint8{{128, 129}, {133, 134}, {135, 136}, {130, 131}, {139, 140}}
	}
	for _, p := range pairs {
		switch typ {
		case p[0]:
			return p[1], true
		case p[1]:
			return p[0], true
		}
	}
	return 0, false
}
