package classify

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// ShardHash returns a hash that sends every packet between the same two
// hosts to the same worker, whatever its direction: a symmetric hash of
// the IP address pair, read with a few fixed-offset steps (Ethernet, up to
// two VLAN tags, Linux cooked v1/v2, BSD NULL, raw IP; one level of GRE,
// VXLAN or Geneve, so an ERSPAN or VXLAN mirror feed is spread by its inner
// hosts). Ports are left out on purpose: IP fragments after the first carry
// none, and reassembly needs all fragments of a datagram on one worker.
// Frames it cannot read hash to 0. It does not allocate.
func ShardHash(data []byte, lt layers.LinkType) uint64 {
	var et uint16
	switch lt {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return 0
		}
		et, data = binary.BigEndian.Uint16(data[12:14]), data[14:]
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return 0
		}
		et, data = binary.BigEndian.Uint16(data[14:16]), data[16:]
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return 0
		}
		et, data = binary.BigEndian.Uint16(data[0:2]), data[20:]
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return 0
		}
		data = data[4:]
		return ipPairHash(data, 0)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		return ipPairHash(data, 0)
	default:
		return 0
	}
	for i := 0; i < 2 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++ {
		if len(data) < 4 {
			return 0
		}
		et, data = binary.BigEndian.Uint16(data[2:4]), data[4:]
	}
	if et != 0x0800 && et != 0x86dd {
		return 0
	}
	return ipPairHash(data, 0)
}

// ipPairHash hashes the address pair of the IP packet in b, looking one
// tunnel level deeper when the packet is GRE, VXLAN or Geneve.
func ipPairHash(b []byte, depth int) uint64 {
	if len(b) < 1 {
		return 0
	}
	var a, c []byte
	var proto byte
	var payload []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return 0
		}
		hl := int(b[0]&0xf) * 4
		a, c, proto = b[12:16], b[16:20], b[9]
		if hl >= 20 && hl <= len(b) && binary.BigEndian.Uint16(b[6:8])&0x3fff == 0 {
			payload = b[hl:]
		}
	case 6:
		if len(b) < 40 {
			return 0
		}
		a, c, proto, payload = b[8:24], b[24:40], b[6], b[40:]
	default:
		return 0
	}
	if depth == 0 && payload != nil {
		if inner := tunnelInner(proto, payload); inner != nil {
			if h := ipPairHash(inner, 1); h != 0 {
				return h
			}
		}
	}
	// Symmetric: combine the two addresses in a fixed order.
	if string(a) > string(c) {
		a, c = c, a
	}
	h := uint64(14695981039346656037)
	for _, x := range a {
		h = (h ^ uint64(x)) * 1099511628211
	}
	for _, x := range c {
		h = (h ^ uint64(x)) * 1099511628211
	}
	return h ^ h>>31
}

// tunnelInner returns the inner IP packet of a simple GRE, VXLAN or Geneve
// encapsulation, or nil.
func tunnelInner(proto byte, p []byte) []byte {
	switch proto {
	case 47: // GRE
		if len(p) < 4 {
			return nil
		}
		flags, et := p[0], binary.BigEndian.Uint16(p[2:4])
		off := 4
		for _, bit := range []byte{0x80, 0x20, 0x10} { // checksum, key, sequence
			if flags&bit != 0 {
				off += 4
			}
		}
		if len(p) < off {
			return nil
		}
		switch et {
		case 0x0800, 0x86dd:
			return p[off:]
		case 0x6558:
			return etherIP(p[off:])
		}
	case 17: // UDP
		if len(p) < 8 {
			return nil
		}
		dp := binary.BigEndian.Uint16(p[2:4])
		sp := binary.BigEndian.Uint16(p[0:2])
		u := p[8:]
		switch {
		case (dp == 4789 || sp == 4789) && len(u) >= 8:
			return etherIP(u[8:])
		case (dp == 6081 || sp == 6081) && len(u) >= 8:
			off := 8 + int(u[0]&0x3f)*4
			if len(u) < off {
				return nil
			}
			if binary.BigEndian.Uint16(u[2:4]) == 0x6558 {
				return etherIP(u[off:])
			}
			return u[off:]
		}
	}
	return nil
}

// etherIP skips an Ethernet header and up to two VLAN tags.
func etherIP(b []byte) []byte {
	if len(b) < 14 {
		return nil
	}
	et, b := binary.BigEndian.Uint16(b[12:14]), b[14:]
	for i := 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++ {
		if len(b) < 4 {
			return nil
		}
		et, b = binary.BigEndian.Uint16(b[2:4]), b[4:]
	}
	if et != 0x0800 && et != 0x86dd {
		return nil
	}
	return b
}
