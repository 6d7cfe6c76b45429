package classify

import (
	"encoding/binary"
	"net/netip"

	"github.com/egresswatch/egresswatch/flow"
)

// fastEthernet decodes the frames a SPAN port mostly carries, Ethernet
// with up to two 802.1Q/802.1ad tags, then IPv4 without options or IPv6
// without extension headers, then TCP or ordinary UDP, straight from the
// bytes. It fills p and reports true only when the result is exactly what
// walk would give; anything else (tunnels, fragments, options, LLC, a
// header that does not fit, a length that walk would trim as truncated)
// returns false with p untouched, and walk decodes the frame. The
// layer-by-layer walk costs about three times as much, in interface calls
// and layer structs filled for nothing (FuzzFastPathSame holds the two to
// the same answers).
func fastEthernet(data []byte, p *Packet) bool {
	if len(data) < 14 {
		return false
	}
	et := binary.BigEndian.Uint16(data[12:14])
	off := 14
	var vlan [2]uint16
	var nvlan uint8
	for et == 0x8100 || et == 0x88a8 {
		if nvlan == 2 || len(data) < off+4 {
			return false
		}
		vlan[nvlan] = binary.BigEndian.Uint16(data[off:off+2]) & 0x0fff
		nvlan++
		et = binary.BigEndian.Uint16(data[off+2 : off+4])
		off += 4
	}
	var (
		src, dst netip.Addr
		proto    byte
		l4       []byte
	)
	ip := data[off:]
	switch et {
	case 0x0800:
		if len(ip) < 20 || ip[0] != 0x45 {
			return false // options, a bad IHL or version: walk
		}
		length := int(binary.BigEndian.Uint16(ip[2:4]))
		if length < 20 || length > len(ip) {
			return false // TSO zero length, too small, or truncated
		}
		if binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return false // a fragment (MF set or an offset)
		}
		proto = ip[9]
		src = netip.AddrFrom4([4]byte(ip[12:16]))
		dst = netip.AddrFrom4([4]byte(ip[16:20]))
		l4 = ip[20:length]
	case 0x86dd:
		if len(ip) < 40 || ip[0]>>4 != 6 {
			return false
		}
		length := int(binary.BigEndian.Uint16(ip[4:6]))
		if length == 0 || length > len(ip)-40 {
			return false // jumbogram or truncated
		}
		proto = ip[6]
		src = netip.AddrFrom16([16]byte(ip[8:24]))
		dst = netip.AddrFrom16([16]byte(ip[24:40]))
		l4 = ip[40 : 40+length]
	default:
		return false
	}
	var key flow.Key
	var payload []byte
	var flags uint8
	var seq uint32
	switch proto {
	case 6:
		if len(l4) < 20 {
			return false
		}
		hl := int(l4[12]>>4) * 4
		if hl < 20 || hl > len(l4) {
			return false
		}
		sp, dp := binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4])
		key = flow.Key{Proto: flow.TCP, Src: netip.AddrPortFrom(src, sp), Dst: netip.AddrPortFrom(dst, dp)}
		seq = binary.BigEndian.Uint32(l4[4:8])
		flags = l4[13] & (FlagFIN | FlagSYN | FlagRST | FlagPSH | FlagACK)
		payload = l4[hl:]
	case 17:
		if len(l4) < 8 {
			return false
		}
		sp, dp := binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4])
		ul := int(binary.BigEndian.Uint16(l4[4:6]))
		switch {
		case ul >= 8:
			if ul > len(l4) {
				return false // truncated: walk says so
			}
			payload = l4[8:ul]
		case ul == 0:
			payload = l4[8:]
		default:
			return false
		}
		if udpTunnelPort(sp) || udpTunnelPort(dp) {
			return false // maybe a tunnel: walk looks inside
		}
		key = flow.Key{Proto: flow.UDP, Src: netip.AddrPortFrom(src, sp), Dst: netip.AddrPortFrom(dst, dp)}
	default:
		return false
	}
	copy(p.DstMAC[:], data[0:6])
	copy(p.Sender.MAC[:], data[6:12])
	p.Sender.HasMAC = true
	p.Sender.VLAN, p.Sender.NVLAN = vlan, nvlan
	p.Key, p.Payload = key, payload
	p.TCPSeq, p.TCPFlags = seq, flags
	return true
}

// udpTunnelPort reports whether walk would look for a tunnel in UDP to or
// from port: udpTunnel looks at no other port.
func udpTunnelPort(port uint16) bool {
	return port == 4789 || port == 6081 || port == 3544 || port == 2152
}
