package classify

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"testing"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/flow"
)

// fuzzLinks are the link types Decode knows; FuzzDecode picks one.
var fuzzLinks = []layers.LinkType{
	layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
	layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeRaw, 12, 14,
	layers.LinkTypeIPv4, layers.LinkTypeIPv6, layers.LinkTypePPP, 50, 239,
}

// packFrames joins frames as 2-byte length-prefixed records, the input
// format of FuzzDecode; splitFrames undoes it (a short tail is a frame).
func packFrames(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

func splitFrames(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n > len(b) {
			n = len(b)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}

func linkIndex(lt layers.LinkType) uint8 {
	for i, l := range fuzzLinks {
		if l == lt {
			return uint8(i)
		}
	}
	return 0
}

var outerTunnelSrc, outerTunnelDst = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")

// tunnelSeeds are hand-made frames for encapsulations the generated
// captures do not have: VXLAN, GRE, PPPoE, MPLS, IPv4 fragments.
func tunnelSeeds(tb testing.TB) map[string][]byte {
	inner := tcpFrame(tb, segSpec{src: testClient, dst: testServer, seq: 7, flags: FlagACK, payload: []byte("GET / HTTP/1.1\r\nHost: inner.example\r\n\r\n")})
	outerSrc, outerDst := outerTunnelSrc, outerTunnelDst
	ip4 := func(proto layers.IPProtocol) (*layers.IPv4, gopacket.NetworkLayer) {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: outerSrc.AsSlice(), DstIP: outerDst.AsSlice()}
		return ip, ip
	}
	ipV, nlV := ip4(layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: 50000, DstPort: 4789}
	_ = u.SetNetworkLayerForChecksum(nlV)
	vxlan := ethFrame(tb, nil, false, ipV, u, &layers.VXLAN{ValidIDFlag: true, VNI: 4242}, gopacket.Payload(inner))

	ipG, _ := ip4(layers.IPProtocolGRE)
	gre := ethFrame(tb, nil, false, ipG, &layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging, KeyPresent: true, Key: 77}, gopacket.Payload(inner))

	innerIP := inner[14:] // the IPv4 packet inside the inner Ethernet frame
	udpTunnel := func(port layers.UDPPort, ls ...gopacket.SerializableLayer) []byte {
		ip, nl := ip4(layers.IPProtocolUDP)
		u := &layers.UDP{SrcPort: 50001, DstPort: port}
		_ = u.SetNetworkLayerForChecksum(nl)
		return ethFrame(tb, nil, false, append([]gopacket.SerializableLayer{ip, u}, ls...)...)
	}
	geneve := udpTunnel(6081, &layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: 99}, gopacket.Payload(inner))
	gtp := udpTunnel(2152, &layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 255, TEID: 0x1234}, gopacket.Payload(innerIP))
	v6c, v6s := netip.MustParseAddrPort("[2001:db8::10]:49152"), netip.MustParseAddrPort("[2001:db8::20]:443")
	inner6 := tcpFrame(tb, segSpec{src: v6c, dst: v6s, seq: 7, flags: FlagACK, payload: []byte("x")})[14:]
	teredo := udpTunnel(3544, gopacket.Payload(inner6))
	ipE, _ := ip4(layers.IPProtocolGRE)
	erspan := ethFrame(tb, nil, false, ipE, &layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true},
		&layers.ERSPANII{Version: 1, SessionID: 321}, gopacket.Payload(inner))
	// ERSPAN type III (GRE protocol 0x22eb): VLAN 20, session 513, no
	// platform subheader; the VLAN must not be taken for the session.
	ipE3, _ := ip4(layers.IPProtocolGRE)
	e3 := []byte{0x20, 20, 0x02, 0x01, 0, 0, 0, 1, 0, 0, 0, 0}
	erspan3 := ethFrame(tb, nil, false, ipE3, &layers.GRE{Protocol: 0x22eb, SeqPresent: true}, gopacket.Payload(append(e3, inner...)))
	pppoe := serializeTB(tb, &layers.Ethernet{SrcMAC: testClientMAC, DstMAC: testRouterMAC, EthernetType: layers.EthernetTypePPPoESession},
		&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 9},
		&layers.PPP{PPPType: layers.PPPTypeIPv4}, gopacket.Payload(innerIP))
	mpls := serializeTB(tb, &layers.Ethernet{SrcMAC: testClientMAC, DstMAC: testRouterMAC, EthernetType: layers.EthernetTypeMPLSUnicast},
		&layers.MPLS{Label: 16, StackBottom: false, TTL: 64}, &layers.MPLS{Label: 17, StackBottom: true, TTL: 64},
		gopacket.Payload(innerIP))

	// An IPv4 UDP datagram in two fragments, second one first.
	udpPart := make([]byte, 8+40)
	binary.BigEndian.PutUint16(udpPart[0:], 53)
	binary.BigEndian.PutUint16(udpPart[2:], 40000)
	binary.BigEndian.PutUint16(udpPart[4:], uint16(len(udpPart)))
	copy(udpPart[8:], "\x12\x34\x81\x80\x00\x00\x00\x00\x00\x00\x00\x00")
	frag := func(off int, more bool, data []byte) []byte {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, Id: 0x4242,
			FragOffset: uint16(off / 8), SrcIP: outerSrc.AsSlice(), DstIP: outerDst.AsSlice()}
		if more {
			ip.Flags = layers.IPv4MoreFragments
		}
		return ethFrame(tb, nil, false, ip, gopacket.Payload(data))
	}
	frags := packFrames(frag(24, false, udpPart[24:]), frag(0, true, udpPart[:24]))
	return map[string][]byte{"vxlan": vxlan, "gre": gre, "pppoe": pppoe, "mpls": mpls, "ipv4-frags": frags,
		"geneve": geneve, "gtp-u": gtp, "teredo": teredo, "erspan": erspan, "erspan3": erspan3}
}

// TestDecodeTunnels checks the hand-made seeds decode to the inner flow.
func TestDecodeTunnels(t *testing.T) {
	seeds := tunnelSeeds(t)
	for _, tc := range []struct {
		name string
		kind TunnelKind
		id   uint32
	}{
		{"vxlan", TunnelVXLAN, 4242}, {"gre", TunnelGRE, 77}, {"pppoe", TunnelNone, 0}, {"mpls", TunnelNone, 0},
		{"geneve", TunnelGeneve, 99}, {"gtp-u", TunnelGTPU, 0}, {"teredo", TunnelTeredo, 0}, {"erspan", TunnelERSPAN, 321},
		{"erspan3", TunnelERSPAN, 513},
	} {
		d := NewDecoder(Options{})
		var p Packet
		if r := d.Decode(ethCapture(seeds[tc.name]), &p); r != ResultL4 {
			t.Errorf("%s: Decode = %d; want ResultL4", tc.name, r)
			continue
		}
		wantSrc := testClient
		if tc.name == "teredo" {
			wantSrc = netip.MustParseAddrPort("[2001:db8::10]:49152")
		}
		if p.Key.Src != wantSrc || p.Key.Proto != flow.TCP || p.Key.Dst.Port() != 443 {
			t.Errorf("%s: key %v; want the inner flow", tc.name, p.Key)
		}
		if tc.kind != TunnelNone && (p.Tunnel.Src != outerTunnelSrc || p.Tunnel.Dst != outerTunnelDst) {
			t.Errorf("%s: outer addresses %v -> %v; want %v -> %v", tc.name, p.Tunnel.Src, p.Tunnel.Dst, outerTunnelSrc, outerTunnelDst)
		}
		if p.Tunnel.Kind != tc.kind || p.Tunnel.ID != tc.id {
			t.Errorf("%s: tunnel %v id %d; want %v id %d", tc.name, p.Tunnel.Kind, p.Tunnel.ID, tc.kind, tc.id)
		}
	}
	d := NewDecoder(Options{})
	var p Packet
	fr := splitFrames(seeds["ipv4-frags"])
	if r := d.Decode(ethCapture(fr[0]), &p); r != ResultFragment {
		t.Errorf("first fragment: %d; want ResultFragment", r)
	}
	if r := d.Decode(ethCapture(fr[1]), &p); r != ResultL4 || !p.Reassembled || len(p.Payload) != 40 || p.Payload[0] != 0x12 {
		t.Errorf("second fragment: %d reassembled=%v payload %d bytes; want the 40-byte DNS payload", r, p.Reassembled, len(p.Payload))
	}
}

// within reports whether s lies inside b's memory.
func within(s, b []byte) bool {
	if len(s) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(b))
}

// FuzzDecode runs frames through one Decoder (so fragments can meet) on
// one link type. Decode must not panic, and what it returns must be
// consistent: L4 packets have valid addresses and a payload inside their
// frame unless reassembled.
func FuzzDecode(f *testing.F) {
	frames := captureFrames(f)
	var ipv6Frags [][]byte
	for _, fr := range frames {
		f.Add(packFrames(fr.Data), linkIndex(fr.LinkType))
		if fr.Path != "" && len(fr.Data) > 54 && fr.Data[12] == 0x86 && fr.Data[13] == 0xdd && fr.Data[20] == 44 {
			ipv6Frags = append(ipv6Frags, fr.Data)
		}
	}
	f.Add(packFrames(ipv6Frags...), linkIndex(layers.LinkTypeEthernet))
	for _, s := range tunnelSeeds(f) {
		if len(splitFrames(s)) > 1 {
			f.Add(s, linkIndex(layers.LinkTypeEthernet))
		} else {
			f.Add(packFrames(s), linkIndex(layers.LinkTypeEthernet))
		}
	}
	f.Add(packFrames([]byte{0x45, 0, 0, 20, 0, 0, 0x20, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}), linkIndex(layers.LinkTypeRaw))
	f.Add([]byte{0, 4, 2, 0, 0, 0}, linkIndex(239))
	f.Fuzz(func(t *testing.T, in []byte, link uint8) {
		lt := fuzzLinks[int(link)%len(fuzzLinks)]
		d := NewDecoder(Options{MaxFragDatagrams: 4})
		var p Packet
		frs := splitFrames(in)
		for i, data := range frs {
			r := d.Decode(capture.Frame{Data: data, LinkType: lt, WireLen: len(data), Seq: uint64(i + 1), Time: testTime}, &p)
			if r > ResultMalformed {
				t.Fatalf("frame %d: result %d out of range", i, r)
			}
			if p.Sender.NVLAN > 2 {
				t.Fatalf("frame %d: NVLAN %d", i, p.Sender.NVLAN)
			}
			switch r {
			case ResultL4:
				if p.Key.Proto != flow.TCP && p.Key.Proto != flow.UDP {
					t.Fatalf("frame %d: L4 with proto %v", i, p.Key.Proto)
				}
				if !p.Key.Src.Addr().IsValid() || !p.Key.Dst.Addr().IsValid() {
					t.Fatalf("frame %d: L4 with invalid address: %v", i, p.Key)
				}
				if !p.Reassembled && !within(p.Payload, data) {
					t.Fatalf("frame %d: payload (%d bytes) not inside the frame", i, len(p.Payload))
				}
				if len(p.Payload) > maxDatagram {
					t.Fatalf("frame %d: payload of %d bytes", i, len(p.Payload))
				}
			case ResultIP:
				if !p.Key.Src.Addr().IsValid() {
					t.Fatalf("frame %d: IP result without addresses", i)
				}
			}
		}
		if d.Stats.Frames != uint64(len(frs)) {
			t.Fatalf("Stats.Frames = %d; want %d", d.Stats.Frames, len(frs))
		}
		if len(d.frag.entries) > 4 || len(d.frag.order) != len(d.frag.entries) {
			t.Fatalf("defragmenter holds %d entries (%d in order); cap 4", len(d.frag.entries), len(d.frag.order))
		}
	})
}

// checkHalf asserts the Inspector's per-direction bounds.
func checkHalf(t *testing.T, h *half, where string) {
	t.Helper()
	limit := maxFirstFlight
	if h.mode == modeDNS {
		limit = maxDNSStream
	}
	if len(h.buf) > limit {
		t.Fatalf("%s: buffer holds %d bytes; bound %d", where, len(h.buf), limit)
	}
	if len(h.ooo) > maxOOOSegments {
		t.Fatalf("%s: %d out-of-order segments held; bound %d", where, len(h.ooo), maxOOOSegments)
	}
	if h.mode == modeDone && (h.buf != nil || h.ooo != nil) {
		t.Fatalf("%s: a finished half keeps %d buffered bytes and %d segments", where, len(h.buf), len(h.ooo))
	}
}

// FuzzTCPReassembly feeds one direction of a TCP connection to port 443
// as a SYN at iss then segments described by ops, 5 bytes each:
//
//	kind  offset(2)  length(2)
//
// A segment normally carries hello[offset:offset+length] at the matching
// sequence number; kind bit 0x80 takes the payload from raw instead, 0x40
// shifts its sequence number by length<<8, 0x01 sets SYN. The buffer
// bounds must hold after every segment, and when every segment is a
// consistent piece of the hello, none was dropped and together they cover
// it, the hello must be found exactly once.
func FuzzTCPReassembly(f *testing.F) {
	hello := recordedHello(f)
	n := len(hello)
	op := func(kind byte, off, length int) []byte {
		return []byte{kind, byte(off >> 8), byte(off), byte(length >> 8), byte(length)}
	}
	cat := func(ops ...[]byte) []byte {
		var b []byte
		for _, o := range ops {
			b = append(b, o...)
		}
		return b
	}
	f.Add(uint32(1000), cat(op(0, 0, n)), []byte(nil))
	f.Add(uint32(0xfffffcff), cat(op(0, 1400, n), op(0, 0, 700), op(0, 0, 700), op(0, 650, 450), op(0, 700, 700)), []byte(nil))
	f.Add(uint32(7), cat(op(0, 2*n/3, n), op(0, n/3, n/3), op(0, 0, n/3)), []byte(nil))
	f.Add(uint32(7), cat(op(0, 0, 3), op(0, 3, 3), op(0, 6, n)), []byte(nil))
	f.Add(uint32(9), cat(op(0x80, 0, 40), op(0, 0, n)), []byte("\x16\x03\x01\xff\xffGARBAGE"))
	f.Add(uint32(9), cat(op(0x40, 10, 100), op(0, 0, n)), []byte(nil))
	f.Fuzz(func(t *testing.T, iss uint32, ops, raw []byte) {
		in := NewInspector()
		var st Stream
		c, s := testClient, testServer
		in.Inspect(&st, tcpPacket(c, s, iss, FlagSYN, nil), true)
		clean := true
		covered := make([]bool, n)
		var got []string
		for i := 0; i+5 <= len(ops); i += 5 {
			kind := ops[i]
			off := int(binary.BigEndian.Uint16(ops[i+1:]))
			length := int(binary.BigEndian.Uint16(ops[i+3:]))
			seq := iss + 1 + uint32(off)
			var payload []byte
			switch {
			case kind&0x80 != 0:
				clean = false
				if len(raw) > 0 {
					start := off % len(raw)
					payload = raw[start:min(len(raw), start+length)]
				}
			case off < n:
				payload = hello[off:min(n, off+length)]
			}
			if kind&0x40 != 0 {
				clean = false
				seq += uint32(length) << 8
			}
			var flags uint8 = FlagACK
			if kind&0x01 != 0 {
				clean = false
				flags |= FlagSYN
			}
			if clean {
				for j := range payload {
					covered[off+j] = true
				}
			}
			for _, o := range in.Inspect(&st, tcpPacket(c, s, seq, flags, payload), true) {
				if o.App != AppTLS || o.Hello == nil {
					t.Fatalf("segment %d: observation %v", i/5, o.App)
				}
				got = append(got, o.Hello.ServerName)
			}
			checkHalf(t, &st.half[0], fmt.Sprintf("segment %d", i/5))
		}
		if len(got) > maxHellos {
			t.Fatalf("%d hellos reported; at most %d", len(got), maxHellos)
		}
		if !clean || in.Stats.OOODropped > 0 {
			return
		}
		for _, c := range covered {
			if !c {
				if len(got) != 0 {
					t.Fatalf("hello reported (%q) though not all of it was sent", got)
				}
				return
			}
		}
		if len(got) != 1 || got[0] != "split.example.org" {
			t.Fatalf("every byte of the hello was sent; got hellos %q, want [split.example.org] (stats %+v)", got, in.Stats)
		}
	})
}

// dnsSummary is what FuzzDNSOverTCP compares between segmentations.
func dnsSummary(in *Inspector, st *Stream, p *Packet, out []string) []string {
	for _, o := range in.Inspect(st, p, true) {
		m := o.DNS
		out = append(out, fmt.Sprintf("%d %v %q %d %d partial=%v tc=%v", m.ID, m.Response, m.QName, m.QType, len(m.Answers), m.Partial, m.Truncated))
	}
	return out
}

// FuzzDNSOverTCP feeds a byte stream to TCP port 53 once in one segment
// and once cut into segments whose sizes come from cuts: the DNS messages
// found must not depend on the segmentation, and the buffer bounds hold.
func FuzzDNSOverTCP(f *testing.F) {
	pack := func(m *dns.Msg) []byte {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	r := new(dns.Msg)
	r.SetReply(q)
	rr, _ := dns.NewRR("www.example.com. 60 IN A 203.0.113.10")
	r.Answer = append(r.Answer, rr)
	lp := func(msgs ...[]byte) []byte {
		var b []byte
		for _, m := range msgs {
			b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
			b = append(b, m...)
		}
		return b
	}
	f.Add(lp(pack(q), pack(q)), []byte{1, 2, 30})
	f.Add(lp(pack(r)), []byte{40})
	f.Add(lp(pack(q), pack(r), pack(q)), []byte{1, 1, 1, 1, 1, 1, 1})
	f.Add([]byte{0, 0, 0, 1, 0}, []byte{1})
	for _, fr := range captureFrames(f) {
		if fr.Path != "" && len(fr.Data) > 60 && len(fr.Data) < 2000 && (fr.Data[34] == 0 && fr.Data[35] == 53 || fr.Data[36] == 0 && fr.Data[37] == 53) {
			// DNS over TCP from dns-tcp-two-in-one: the TCP payload after a 20-byte header
			if fr.Data[23] == 6 && len(fr.Data) > 54 {
				f.Add(fr.Data[54:], []byte{3, 7, 200})
			}
		}
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		c := netip.MustParseAddrPort("192.0.2.10:40000")
		s := netip.MustParseAddrPort("192.0.2.53:53")
		in := NewInspector()
		var whole Stream
		in.Inspect(&whole, tcpPacket(c, s, 99, FlagSYN, nil), true)
		want := dnsSummary(in, &whole, tcpPacket(c, s, 100, FlagACK, stream), nil)
		checkHalf(t, &whole.half[0], "whole")

		var split Stream
		in.Inspect(&split, tcpPacket(c, s, 99, FlagSYN, nil), true)
		var got []string
		off := 0
		for i := 0; off < len(stream); i++ {
			size := len(stream) - off
			if i < len(cuts) {
				size = min(size, int(cuts[i])+1)
			}
			got = dnsSummary(in, &split, tcpPacket(c, s, 100+uint32(off), FlagACK, stream[off:off+size]), got)
			checkHalf(t, &split.half[0], fmt.Sprintf("segment %d", i))
			off += size
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("segmentation changed the messages:\nwhole: %q\nsplit: %q", want, got)
		}
	})
}

// FuzzHTTPRequest checks parseHTTPRequest on arbitrary bytes and on a
// prefix of them: a request found in a prefix is the request found in
// the whole.
func FuzzHTTPRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"POST /upload?x=1 HTTP/1.1\r\nContent-Length: 3\r\nHOST: Up.Example.COM:8443\r\n\r\nabc",
		"CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n",
		"M-SEARCH * HTTP/1.1\nHOST: 239.255.255.250:1900\n\n",
		"GET / HTTP/1.1\r\nHost: x:99999\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	for _, fr := range captureFrames(f) {
		if i := indexHTTP(fr.Data); i >= 0 {
			f.Add(fr.Data[i:], uint16(9))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		var r HTTPRequest
		st, n := parseHTTPRequest(b, &r)
		if st > httpDone {
			t.Fatalf("status %d", st)
		}
		if st == httpDone {
			if n < 0 || n > len(b) {
				t.Fatalf("consumed %d of %d bytes", n, len(b))
			}
			if r.Method == "" || len(r.Target) > 2048 {
				t.Fatalf("request %+v", r)
			}
			for i := 0; i < len(r.Host); i++ {
				if c := r.Host[i]; 'A' <= c && c <= 'Z' {
					t.Fatalf("host %q not lower-case", r.Host)
				}
			}
		}
		if int(cut) > len(b) {
			return
		}
		// On the wire: the first request found must not depend on where
		// the first segment ends.
		if len(b) <= maxHTTPHeader && cut > 0 {
			whole := httpOverTCP(b, len(b))
			split := httpOverTCP(b, int(cut))
			if (len(whole) > 0) != (len(split) > 0) || len(whole) > 0 && whole[0] != split[0] {
				t.Fatalf("first segment of %d bytes: requests %+v; in one segment %+v", cut, split, whole)
			}
		}
		var pr HTTPRequest
		if pst, _ := parseHTTPRequest(b[:cut], &pr); pst == httpDone {
			if st != httpDone || pr != r {
				t.Fatalf("prefix of %d bytes gives %+v; the whole gives status %d %+v", cut, pr, st, r)
			}
		}
	})
}

// httpOverTCP sends b to port 80 in two segments, the first of cut bytes,
// and returns the requests found.
func httpOverTCP(b []byte, cut int) []HTTPRequest {
	c := netip.MustParseAddrPort("192.0.2.10:40000")
	s := netip.MustParseAddrPort("198.51.100.1:80")
	in := NewInspector()
	var st Stream
	in.Inspect(&st, tcpPacket(c, s, 99, FlagSYN, nil), true)
	var out []HTTPRequest
	for _, seg := range [][2]int{{0, cut}, {cut, len(b)}} {
		if seg[0] == seg[1] {
			continue
		}
		for _, o := range in.Inspect(&st, tcpPacket(c, s, 100+uint32(seg[0]), FlagACK, b[seg[0]:seg[1]]), true) {
			out = append(out, o.HTTP)
		}
	}
	return out
}

func indexHTTP(b []byte) int {
	for i := 0; i+4 <= len(b); i++ {
		if string(b[i:i+4]) == "GET " || string(b[i:i+4]) == "POST" {
			return i
		}
	}
	return -1
}

// FuzzFastPathSame holds fastEthernet to walk: every Ethernet frame must
// decode to the same result, packet and counters with the fast path as
// with the layer-by-layer walk alone. The seeds are the project's
// captures (plain, VLAN, QinQ, IPv6, fragments, tunnels) and edge cases
// of the lengths the fast path checks.
func FuzzFastPathSame(f *testing.F) {
	for _, fr := range captureFrames(f) {
		if fr.LinkType == layers.LinkTypeEthernet {
			f.Add(fr.Data)
		}
	}
	for _, s := range tunnelSeeds(f) {
		for _, fr := range splitFrames(s) {
			f.Add(fr)
		}
	}
	eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	ip4 := []byte{0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	for _, tail := range [][]byte{
		append(append(append([]byte{}, eth...), 0x08, 0), append(ip4, 0x13, 0x88, 0, 53, 0, 8, 0, 0)...),       // UDP, no payload
		append(append(append([]byte{}, eth...), 0x08, 0), append(ip4, 0x13, 0x88, 0x12, 0xb5, 0, 16, 0, 0)...), // VXLAN port, short
		append(append(append([]byte{}, eth...), 0x81, 0, 0, 5, 0x88, 0xa8, 0, 7, 0x08, 0), ip4...),             // QinQ, truncated UDP
		append(append(append([]byte{}, eth...), 0x81, 0, 0, 5, 0x81, 0, 0, 6, 0x81, 0, 0, 7, 0x08, 0), ip4...), // three tags
	} {
		f.Add(tail)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, slow := NewDecoder(Options{MaxFragDatagrams: 4}), NewDecoder(Options{MaxFragDatagrams: 4})
		slow.slowOnly = true
		fr := capture.Frame{Data: data, LinkType: layers.LinkTypeEthernet, WireLen: len(data), Seq: 1, Time: testTime}
		var pf, ps Packet
		rf, rs := fast.Decode(fr, &pf), slow.Decode(fr, &ps)
		if rf != rs {
			t.Fatalf("result: fast path %d, walk %d", rf, rs)
		}
		if !reflect.DeepEqual(pf, ps) {
			t.Fatalf("packet differs:\nfast path %+v\nwalk      %+v", pf, ps)
		}
		if fast.Stats != slow.Stats {
			t.Fatalf("counters: fast path %+v, walk %+v", fast.Stats, slow.Stats)
		}
	})
}

// TestFastPathTakesMost: the fast path must actually carry the ordinary
// frames of the project's captures (else FuzzFastPathSame compares walk
// with itself), and agree with walk on each.
func TestFastPathTakesMost(t *testing.T) {
	var eth, fast int
	for _, fr := range captureFrames(t) {
		if fr.LinkType != layers.LinkTypeEthernet {
			continue
		}
		eth++
		var p Packet
		if fastEthernet(fr.Data, &p) {
			fast++
		}
	}
	t.Logf("fast path took %d of %d Ethernet frames", fast, eth)
	if eth == 0 || fast*2 < eth {
		t.Fatalf("fast path took %d of %d Ethernet frames; want most", fast, eth)
	}
}

// dnsPayloads returns the DNS messages (UDP port 53 payloads) of the
// project's captures, and of the shared corpus when it is there.
func dnsPayloads(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	d := NewDecoder(Options{MaxFragDatagrams: 4})
	var p Packet
	add := func(fr capture.Frame) {
		if d.Decode(fr, &p) == ResultL4 && p.Key.Proto == flow.UDP && (p.Key.Src.Port() == 53 || p.Key.Dst.Port() == 53) {
			out = append(out, append([]byte(nil), p.Payload...))
		}
	}
	for _, fr := range captureFrames(tb) {
		add(fr)
	}
	if _, err := os.Stat("../../shared/pcaps"); err == nil {
		m, err := capture.OpenAll([]string{"../../shared/pcaps"})
		if err != nil {
			tb.Fatal(err)
		}
		defer m.Close()
		for {
			fr, err := m.Next()
			if err != nil {
				break
			}
			add(fr)
		}
	}
	return out
}

// FuzzDNSCommonSame holds parseDNSCommon to miekg/dns: whenever it reads
// a message, the result must be exactly what parseDNSGeneral gives.
func FuzzDNSCommonSame(f *testing.F) {
	for _, b := range dnsPayloads(f) {
		f.Add(b)
	}
	for _, rr := range []string{"a.example. 60 IN A 192.0.2.1", "a.example. 60 IN CNAME b.example.", "a.example. 60 IN AAAA ::ffff:192.0.2.1",
		"a.example. 60 IN MX 10 m.example.", "a.example. 60 IN HTTPS 1 . alpn=h2"} {
		m := new(dns.Msg)
		m.SetQuestion("a.example.", dns.TypeA)
		m.Response = true
		r, err := dns.NewRR(rr)
		if err != nil {
			f.Fatal(err)
		}
		m.Answer = append(m.Answer, r, r)
		m.Ns = append(m.Ns, &dns.SOA{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 5},
			Ns: "ns.example.", Mbox: "h.example.", Serial: 1, Minttl: 5})
		m.SetEdns0(1232, true)
		m.Extra[0].(*dns.OPT).SetExtendedRcode(dns.RcodeBadVers)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 12 {
			return
		}
		var common, general DNSMessage
		if !parseDNSCommon(b, &common) {
			return
		}
		if !parseDNSGeneral(b, &general) {
			t.Fatalf("common path read a message miekg/dns cannot: %+v", common)
		}
		if common.Answers == nil {
			common.Answers = general.Answers[:0:0]
		}
		if len(common.Answers) == 0 && len(general.Answers) == 0 {
			common.Answers, general.Answers = nil, nil
		}
		if !reflect.DeepEqual(common, general) {
			t.Fatalf("messages differ:\ncommon  %+v\ngeneral %+v", common, general)
		}
	})
}

// TestDNSCommonTakesMost: the common path must read most DNS messages of
// the captures (else FuzzDNSCommonSame compares miekg/dns with itself),
// and agree with miekg/dns on each.
func TestDNSCommonTakesMost(t *testing.T) {
	msgs := dnsPayloads(t)
	common := 0
	for _, b := range msgs {
		if len(b) < 12 {
			continue
		}
		var c, g DNSMessage
		if !parseDNSCommon(b, &c) {
			continue
		}
		common++
		parseDNSGeneral(b, &g)
		if len(c.Answers) == 0 && len(g.Answers) == 0 {
			c.Answers, g.Answers = nil, nil
		}
		if !reflect.DeepEqual(c, g) {
			t.Fatalf("messages differ:\ncommon  %+v\ngeneral %+v", c, g)
		}
	}
	t.Logf("common path read %d of %d DNS messages", common, len(msgs))
	if len(msgs) == 0 || common*2 < len(msgs) {
		t.Fatalf("common path read %d of %d DNS messages; want most", common, len(msgs))
	}
}
