package classify

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/flow"
)

// Test frames are built with gopacket's serializers, so that the decoder
// under test is checked against an independent encoder.

var (
	testClientMAC = net.HardwareAddr{0x02, 0, 0x5e, 0x10, 0, 0x01}
	testRouterMAC = net.HardwareAddr{0x02, 0, 0x5e, 0x10, 0, 0xfe}
	testClient    = netip.MustParseAddrPort("192.0.2.10:49152")
	testServer    = netip.MustParseAddrPort("198.51.100.20:443")
	testTime      = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

// segSpec describes one TCP segment of a test frame.
type segSpec struct {
	src, dst netip.AddrPort
	seq      uint32
	flags    uint8 // Flag* bits
	payload  []byte
	vlans    []uint16 // outermost first; two tags make an 802.1ad S-tag + 802.1Q C-tag
}

func serializeTB(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		tb.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ethFrame wraps an IP packet's layers in Ethernet and optional VLAN tags.
func ethFrame(tb testing.TB, vlans []uint16, v6 bool, inner ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	et := layers.EthernetTypeIPv4
	if v6 {
		et = layers.EthernetTypeIPv6
	}
	eth := &layers.Ethernet{SrcMAC: testClientMAC, DstMAC: testRouterMAC, EthernetType: et}
	ls := []gopacket.SerializableLayer{eth}
	for i, id := range vlans {
		if i == 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			if len(vlans) > 1 {
				eth.EthernetType = layers.EthernetTypeQinQ
			}
		}
		tag := &layers.Dot1Q{VLANIdentifier: id, Type: et}
		if i+1 < len(vlans) {
			tag.Type = layers.EthernetTypeDot1Q
		}
		ls = append(ls, tag)
	}
	return serializeTB(tb, append(ls, inner...)...)
}

func ipLayer(src, dst netip.Addr, proto layers.IPProtocol) (gopacket.SerializableLayer, gopacket.NetworkLayer) {
	if src.Is4() {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		return ip, ip
	}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	return ip, ip
}

// tcpFrame builds an Ethernet (+VLAN) / IP / TCP frame.
func tcpFrame(tb testing.TB, s segSpec) []byte {
	tb.Helper()
	ipl, nl := ipLayer(s.src.Addr(), s.dst.Addr(), layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(s.src.Port()), DstPort: layers.TCPPort(s.dst.Port()),
		Seq: s.seq, Window: 64240,
		SYN: s.flags&FlagSYN != 0, ACK: s.flags&FlagACK != 0, FIN: s.flags&FlagFIN != 0,
		RST: s.flags&FlagRST != 0, PSH: s.flags&FlagPSH != 0}
	if err := tcp.SetNetworkLayerForChecksum(nl); err != nil {
		tb.Fatal(err)
	}
	return ethFrame(tb, s.vlans, s.src.Addr().Is6(), ipl, tcp, gopacket.Payload(s.payload))
}

// udpFrame builds an Ethernet / IP / UDP frame.
func udpFrame(tb testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	tb.Helper()
	ipl, nl := ipLayer(src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := u.SetNetworkLayerForChecksum(nl); err != nil {
		tb.Fatal(err)
	}
	return ethFrame(tb, nil, src.Addr().Is6(), ipl, u, gopacket.Payload(payload))
}

func ethCapture(data []byte) capture.Frame {
	return capture.Frame{Data: data, Time: testTime, WireLen: len(data), LinkType: layers.LinkTypeEthernet, Seq: 1}
}

// tcpPacket returns a decoded TCP packet without going through Decode,
// for tests of the Inspector alone.
func tcpPacket(src, dst netip.AddrPort, seq uint32, flags uint8, payload []byte) *Packet {
	return &Packet{Time: testTime, Key: flow.Key{Proto: flow.TCP, Src: src, Dst: dst},
		TCPSeq: seq, TCPFlags: flags, Payload: payload}
}

// recordedHello returns the TLS records of a ClientHello recorded from Go's
// crypto/tls by testdata/gen (X25519MLKEM768 key share, SNI
// split.example.org, ALPN h2 and http/1.1).
func recordedHello(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "gen", "hellos", "split.example.org.bin"))
	if err != nil {
		tb.Fatalf("recorded hello: %v (run go run ./testdata/gen -record)", err)
	}
	return b
}

// captureFrames reads every frame of the generated captures, copied, for
// seed corpora.
func captureFrames(tb testing.TB) []capture.Frame {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "pcap", "*.pcap*"))
	var out []capture.Frame
	for _, path := range files {
		src, err := capture.OpenFile(path)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		for {
			fr, err := src.Next()
			if err != nil {
				break
			}
			fr.Data = append([]byte(nil), fr.Data...)
			out = append(out, fr)
		}
		src.Close()
	}
	if len(out) == 0 {
		tb.Fatal("no frames in ../testdata/pcap (run go run ./testdata/gen)")
	}
	return out
}
