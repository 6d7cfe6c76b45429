package classify

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/flow"
)

// DecodeStats counts what the decoder saw. A worker owns its Decoder, so
// the counters are plain integers; the pipeline sums them. A new counter
// also gets a row in pipeline's counter table (pipeline/counters.go),
// which exports, prints and sums it.
type DecodeStats struct {
	Frames        uint64
	L4            uint64
	Malformed     uint64 // a header failed to decode
	NonIP         uint64
	UnknownLink   uint64 // link type the decoder does not know
	Fragments     uint64 // IP fragments seen
	Reassembled   uint64 // datagrams rebuilt from fragments
	FragEvicted   uint64 // incomplete datagrams dropped (timeout or cap)
	Tunnelled     uint64 // packets decapsulated from a tunnel
	TooDeep       uint64 // more nested layers than maxDepth
	UnknownTunnel uint64 // GRE carrying a protocol the decoder does not follow
	WLANUndecoded uint64 // 802.11 data frames (Aruba GRE) that are encrypted or not LLC/SNAP
}

// Options bound a Decoder's memory.
type Options struct {
	// MaxFragDatagrams caps the number of IP datagrams held for
	// reassembly at once (default 1024); the oldest is evicted.
	MaxFragDatagrams int
}

const maxDepth = 24

// Decoder decodes frames into Packets with gopacket's DecodingLayers,
// reused for every frame. It walks the layers itself, with the same
// container a gopacket.DecodingLayerParser uses, because it needs to see
// every layer as it passes: a DecodingLayerParser reuses one decoder per
// layer type, so the outer 802.1Q tag of a QinQ frame and the outer IP
// header of a tunnel would be overwritten before they could be recorded.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	sll2   layers.LinuxSLL2
	loop   layers.Loopback
	ip4    layers.IPv4
	ip6    layers.IPv6
	ip6ext layers.IPv6ExtensionSkipper
	ip6fr  layers.IPv6Fragment
	tcp    layers.TCP
	udp    layers.UDP
	gre    layers.GRE
	vxlan  layers.VXLAN
	geneve layers.Geneve
	erspan layers.ERSPANII
	gtp    layers.GTPv1U
	pppoe  pppoeLayer
	ppp    pppLayer
	mpls   mplsLayer
	wlan   wlanLayer

	layers gopacket.DecodingLayerContainer
	frag   defragmenter

	truncated bool
	slowOnly  bool // tests: no fastEthernet, every frame walked
	Stats     DecodeStats
}

// NewDecoder returns a Decoder; build one per worker.
func NewDecoder(opts Options) *Decoder {
	d := &Decoder{}
	if opts.MaxFragDatagrams <= 0 {
		opts.MaxFragDatagrams = 1024
	}
	d.frag.init(opts.MaxFragDatagrams)
	d.layers = gopacket.DecodingLayerArray(nil)
	for _, l := range []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6,
		&d.ip6ext, &d.ip6fr, // the fragment decoder replaces the skipper for fragments
		&d.tcp, &d.udp, &d.gre, &d.vxlan, &d.geneve, &d.erspan, &d.gtp,
		&d.pppoe, &d.ppp, &d.mpls, &d.wlan,
	} {
		d.layers = d.layers.Put(l)
	}
	return d
}

// SetTruncated implements gopacket.DecodeFeedback.
func (d *Decoder) SetTruncated() { d.truncated = true }

// Decode decodes fr into p. p is overwritten; its slices borrow from
// fr.Data or from the Decoder and are valid until the next call.
func (d *Decoder) Decode(fr capture.Frame, p *Packet) Result {
	*p = Packet{Time: fr.Time, Clock: p.Clock, Seq: fr.Seq, Path: fr.Path, WireLen: fr.WireLen}
	d.Stats.Frames++
	d.truncated = false
	data := fr.Data
	var typ gopacket.LayerType
	switch fr.LinkType {
	case layers.LinkTypeEthernet:
		if !d.slowOnly && fastEthernet(data, p) {
			d.Stats.L4++
			return ResultL4
		}
		typ = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		typ = layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		typ = layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		typ = layers.LayerTypeLoopback
	case layers.LinkTypeRaw, 12, 14: // LINKTYPE_RAW and the DLT_RAW values some systems write
		typ = ipVersionNext(data)
	case layers.LinkTypeIPv4:
		typ = layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		typ = layers.LayerTypeIPv6
	case layers.LinkTypePPP, 50: // PPP, PPP_HDLC
		typ = layers.LayerTypePPP
	case 239: // LINKTYPE_NFLOG
		data, typ = nflogPayload(data)
	default:
		d.Stats.UnknownLink++
		return ResultUnknown
	}
	r := d.walk(data, typ, p)
	switch r {
	case ResultL4:
		d.Stats.L4++
		if p.Tunnel.Kind != TunnelNone {
			d.Stats.Tunnelled++
		}
	case ResultMalformed:
		d.Stats.Malformed++
	case ResultNonIP:
		d.Stats.NonIP++
	}
	return r
}

func (d *Decoder) walk(data []byte, typ gopacket.LayerType, p *Packet) Result {
	var (
		haveIP  bool
		proto   layers.IPProtocol
		src     netip.Addr
		dst     netip.Addr
		ipID    uint32
		isFrag  bool
		fragOff int
		fragMF  bool
	)
	// setIP records an IP header; a second one means the first was a tunnel.
	setIP := func(s, t netip.Addr, kind TunnelKind) {
		if haveIP && p.Tunnel.Kind == TunnelNone {
			p.Tunnel.Src, p.Tunnel.Dst = src, dst
			if p.Tunnel.Kind == TunnelNone {
				p.Tunnel.Kind = kind
			}
		}
		src, dst, haveIP = s, t, true
	}
	for depth := 0; ; depth++ {
		if typ == gopacket.LayerTypeZero || typ == gopacket.LayerTypePayload {
			break
		}
		if depth >= maxDepth {
			d.Stats.TooDeep++
			break
		}
		if typ == gopacket.LayerTypeFragment {
			if !isFrag || !haveIP {
				return ResultMalformed
			}
			d.Stats.Fragments++
			whole, wire, frames, ok := d.frag.add(fragKey{src: src, dst: dst, id: ipID, proto: uint8(proto)}, fragOff, fragMF, data, p.WireLen, p.Time)
			d.Stats.Reassembled, d.Stats.FragEvicted = d.frag.reassembled, d.frag.evicted
			if !ok {
				return ResultFragment
			}
			p.Reassembled, p.WireLen, p.Frames = true, wire, uint16(min(frames, 1<<16-1))
			data, typ, isFrag = whole, proto.LayerType(), false
			continue
		}
		dl, ok := d.layers.Decoder(typ)
		if !ok {
			break
		}
		if err := dl.DecodeFromBytes(data, d); err != nil {
			return ResultMalformed
		}
		next := dl.NextLayerType()
		payload := dl.LayerPayload()
		switch typ {
		case layers.LayerTypeEthernet:
			// Inside a tunnel (GRE bridging, ERSPAN, VXLAN, Geneve) the
			// inner frame's MAC is the device's; the outer one is the
			// mirroring switch's.
			if !p.Sender.HasMAC || p.Tunnel.Kind != TunnelNone {
				copy(p.Sender.MAC[:], d.eth.SrcMAC)
				copy(p.DstMAC[:], d.eth.DstMAC)
				p.Sender.HasMAC = true
			}
			if d.eth.EthernetType < 0x0600 { // 802.3 length field: LLC, not IP
				return ResultNonIP
			}
		case layers.LayerTypeDot1Q:
			if p.Sender.NVLAN < 2 && !haveIP {
				p.Sender.VLAN[p.Sender.NVLAN] = d.dot1q.VLANIdentifier
				p.Sender.NVLAN++
			}
		case layers.LayerTypeLinuxSLL:
			if d.sll.AddrLen == 6 && !p.Sender.HasMAC {
				copy(p.Sender.MAC[:], d.sll.Addr)
				p.Sender.HasMAC = true
			}
		case layers.LayerTypeLinuxSLL2:
			if d.sll2.AddrLength == 6 && !p.Sender.HasMAC {
				copy(p.Sender.MAC[:], d.sll2.Addr)
				p.Sender.HasMAC = true
			}
		case layers.LayerTypeIPv4:
			if d.ip4.Version != 4 {
				return ResultMalformed // tshark: "Bogus IP version"
			}
			s, _ := netip.AddrFromSlice(d.ip4.SrcIP)
			t, _ := netip.AddrFromSlice(d.ip4.DstIP)
			setIP(s, t, TunnelIPinIP)
			proto = d.ip4.Protocol
			ipID = uint32(d.ip4.Id)
			isFrag = d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0
			fragOff, fragMF = int(d.ip4.FragOffset)*8, d.ip4.Flags&layers.IPv4MoreFragments != 0
			if !isFrag {
				next = proto.LayerType()
			}
		case layers.LayerTypeIPv6:
			if d.ip6.Version != 6 {
				return ResultMalformed // tshark: "Bogus IPv6 version"
			}
			s, _ := netip.AddrFromSlice(d.ip6.SrcIP)
			t, _ := netip.AddrFromSlice(d.ip6.DstIP)
			setIP(s, t, TunnelIPinIP)
			proto = d.ip6.NextHeader
			if d.ip6.HopByHop != nil {
				proto = d.ip6.HopByHop.NextHeader
			}
			isFrag = false
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			proto = d.ip6ext.NextHeader
		case layers.LayerTypeIPv6Fragment:
			proto = d.ip6fr.NextHeader
			ipID = d.ip6fr.Identification
			isFrag = d.ip6fr.FragmentOffset != 0 || d.ip6fr.MoreFragments
			fragOff, fragMF = int(d.ip6fr.FragmentOffset)*8, d.ip6fr.MoreFragments
		case layers.LayerTypeTCP:
			p.Key = flow.Key{Proto: flow.TCP,
				Src: netip.AddrPortFrom(src, uint16(d.tcp.SrcPort)),
				Dst: netip.AddrPortFrom(dst, uint16(d.tcp.DstPort))}
			p.TCPSeq = d.tcp.Seq
			p.TCPFlags = tcpFlags(&d.tcp)
			p.Payload = d.tcp.Payload
			return ResultL4
		case layers.LayerTypeUDP:
			sp, dp := uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			if t := d.udpTunnel(sp, dp, payload); t != gopacket.LayerTypeZero {
				kind := TunnelVXLAN
				switch {
				case dp == 6081 || sp == 6081:
					kind = TunnelGeneve
				case dp == 3544 || sp == 3544:
					kind = TunnelTeredo
				case dp == 2152 || sp == 2152:
					kind = TunnelGTPU
				}
				d.markTunnel(p, kind, src, dst)
				if kind == TunnelTeredo {
					payload = teredoIPv6(payload)
				}
				typ, data = t, payload
				continue
			}
			p.Key = flow.Key{Proto: flow.UDP,
				Src: netip.AddrPortFrom(src, sp),
				Dst: netip.AddrPortFrom(dst, dp)}
			p.Payload = payload
			return ResultL4
		case layers.LayerTypeGRE:
			d.markTunnel(p, TunnelGRE, src, dst)
			if d.gre.KeyPresent {
				p.Tunnel.ID, p.Tunnel.HasID = d.gre.Key, true
			}
			switch uint16(d.gre.Protocol) {
			case 0x22eb: // ERSPAN type III
				p.Tunnel.Kind = TunnelERSPAN
				if len(payload) < 12 {
					return ResultMalformed
				}
				// Ver(4) VLAN(12) | COS(3) BSO(2) T(1) Session ID(10)
				p.Tunnel.ID, p.Tunnel.HasID = uint32(binary.BigEndian.Uint16(payload[2:4])&0x3ff), true
				hl := 12
				if payload[11]&1 == 1 { // O bit: 8-byte platform-specific subheader
					hl += 8
				}
				if len(payload) < hl {
					return ResultMalformed
				}
				payload, next = payload[hl:], layers.LayerTypeEthernet
			case 0x88be:
				p.Tunnel.Kind = TunnelERSPAN
			case 0x6558:
				next = layers.LayerTypeEthernet
			case 0x8200: // Aruba: 802.11 frames from an access point
				next = layers.LayerTypeDot11
			}
			if _, ok := d.layers.Decoder(next); !ok {
				d.Stats.UnknownTunnel++
			}
		case layers.LayerTypeDot11:
			if d.wlan.hasAddr { // the station's addresses, as for an inner Ethernet frame
				p.Sender.MAC, p.DstMAC, p.Sender.HasMAC = d.wlan.src, d.wlan.dst, true
			}
			if d.wlan.undecoded {
				d.Stats.WLANUndecoded++
			}
		case layers.LayerTypeERSPANII:
			p.Tunnel.ID, p.Tunnel.HasID = uint32(d.erspan.SessionID), true
		case layers.LayerTypeVXLAN:
			p.Tunnel.ID, p.Tunnel.HasID = d.vxlan.VNI, true
		case layers.LayerTypeGeneve:
			p.Tunnel.ID, p.Tunnel.HasID = d.geneve.VNI, true
		case layers.LayerTypeGTPv1U:
			if d.gtp.MessageType == 255 {
				next = ipVersionNext(payload)
			}
		}
		typ, data = next, payload
	}
	if haveIP {
		if isFrag {
			return ResultFragment
		}
		p.Key = flow.Key{Proto: flow.Proto(proto),
			Src: netip.AddrPortFrom(src, 0), Dst: netip.AddrPortFrom(dst, 0)}
		if p.Key.Proto == flow.ICMP || p.Key.Proto == flow.ICMPv6 {
			// ICMP is a flow too, tracked by type and reply type (icmpPorts).
			sp, dp, ok := icmpPorts(p.Key.Proto, data)
			if !ok {
				return ResultMalformed
			}
			p.Key.Src, p.Key.Dst = netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp)
			p.Payload = data
			return ResultL4
		}
		return ResultIP
	}
	return ResultNonIP
}

func (d *Decoder) markTunnel(p *Packet, kind TunnelKind, src, dst netip.Addr) {
	if p.Tunnel.Kind == TunnelNone {
		p.Tunnel.Kind, p.Tunnel.Src, p.Tunnel.Dst = kind, src, dst
	}
}

// udpTunnel returns the layer inside a UDP tunnel on its IANA port, or
// LayerTypeZero when the datagram is ordinary UDP.
func (d *Decoder) udpTunnel(sp, dp uint16, payload []byte) gopacket.LayerType {
	if !udpTunnelPort(sp) && !udpTunnelPort(dp) {
		return gopacket.LayerTypeZero // the fast path relies on this set
	}
	is := func(port uint16) bool { return sp == port || dp == port }
	switch {
	case is(4789) && len(payload) >= 8 && payload[0]&0x08 != 0:
		return layers.LayerTypeVXLAN
	case is(6081) && len(payload) >= 8 && payload[0]>>6 == 0:
		return layers.LayerTypeGeneve
	case is(3544) && len(teredoIPv6(payload)) >= 40:
		return layers.LayerTypeIPv6 // Teredo
	case is(2152) && len(payload) >= 8 && payload[0]>>5 == 1:
		return layers.LayerTypeGTPv1U
	}
	return gopacket.LayerTypeZero
}

// teredoIPv6 returns the IPv6 packet of a Teredo datagram, after the
// authentication and origin indicators that may precede it (RFC 4380
// section 5.1.1: the router solicitations and advertisements of
// qualification carry them), or nil when there is none.
func teredoIPv6(b []byte) []byte {
	if len(b) >= 4 && b[0] == 0 && b[1] == 1 { // authentication: ID and AU lengths, nonce, confirmation
		n := 4 + int(b[2]) + int(b[3]) + 8 + 1
		if len(b) < n {
			return nil
		}
		b = b[n:]
	}
	if len(b) >= 8 && b[0] == 0 && b[1] == 0 { // origin indication: port, address
		b = b[8:]
	}
	if len(b) < 40 || b[0]>>4 != 6 {
		return nil
	}
	return b
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	if t.FIN {
		f |= FlagFIN
	}
	if t.SYN {
		f |= FlagSYN
	}
	if t.RST {
		f |= FlagRST
	}
	if t.PSH {
		f |= FlagPSH
	}
	if t.ACK {
		f |= FlagACK
	}
	return f
}

// SetMaxFragDatagrams changes the cap on IP datagrams held for reassembly.
func (d *Decoder) SetMaxFragDatagrams(n int) {
	if n > 0 {
		d.frag.max = n
	}
}
