// Command gen writes the captures in testdata/pcap that the replay tests
// (pipeline/golden_test.go) run through the whole pipeline. Run it from the
// repository root:
//
//	go run ./testdata/gen           # rebuild the captures
//	go run ./testdata/gen -record   # first re-record the ClientHellos
//
// Frames are built with gopacket's layers, DNS messages with miekg/dns and
// TLS ClientHellos by Go's crypto/tls client. Since Go 1.26 crypto/tls
// draws its key shares (X25519MLKEM768) from the system's randomness
// whatever Config.Rand says, so a fresh hello differs on every run; the
// hellos are therefore recorded once into testdata/gen/hellos and the
// captures are built from those files, which keeps every capture
// byte-for-byte reproducible. Timestamps are fixed.
//
// All addresses are from the documentation ranges (RFC 5737, RFC 3849)
// and all names are under example.{com,net,org}, except in
// encrypted-dns.pcap, whose point is the public resolvers' real names and
// addresses (dns.google 8.8.8.8, cloudflare-dns.com 1.1.1.1,
// dns.adguard-dns.com 94.140.14.14).
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/egresswatch/egresswatch/capture/pcaptest"
)

// Server names of the recorded ClientHellos, one file each in hellos/.
// The plain ones are recorded by recordHello; blindHellos (blind.go)
// records the ECH, DoT, DoH and DoQ ones.
var helloNames = []string{"split.example.org", "ooo.example.org", "qinq.example.org"}

func main() {
	record := flag.Bool("record", false, "record new ClientHellos with crypto/tls before building the captures")
	dir := flag.String("dir", "testdata", "the repository's testdata directory")
	flag.Parse()
	if err := run(*dir, *record); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, record bool) error {
	helloDir := filepath.Join(dir, "gen", "hellos")
	if record {
		if err := os.MkdirAll(helloDir, 0o755); err != nil {
			return err
		}
		for i, name := range helloNames {
			b, err := recordHello(name, uint64(i+1))
			if err != nil {
				return fmt.Errorf("record hello for %s: %w", name, err)
			}
			if err := os.WriteFile(filepath.Join(helloDir, name+".bin"), b, 0o644); err != nil {
				return err
			}
		}
	}
	// The hellos of blind.go are recorded with -record, or when missing.
	for _, h := range blindHellos() {
		path := filepath.Join(helloDir, h.name+".bin")
		if _, err := os.Stat(path); err == nil && !record {
			continue
		}
		b, err := h.record()
		if err != nil {
			return fmt.Errorf("record hello %s: %w", h.name, err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	hellos := map[string][]byte{}
	names := slices.Clone(helloNames)
	for _, h := range blindHellos() {
		names = append(names, h.name)
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(helloDir, name+".bin"))
		if err != nil {
			return fmt.Errorf("%w (run with -record to make the hellos)", err)
		}
		hellos[name] = b
	}
	out := filepath.Join(dir, "pcap")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, c := range []struct {
		name  string
		build func(map[string][]byte) ([]byte, error)
	}{
		{"tls-split-3seg.pcap", tlsSplit},
		{"tls-out-of-order.pcap", tlsOutOfOrder},
		{"dns-tcp-two-in-one.pcap", dnsTCP},
		{"qinq.pcap", qinq},
		{"ipv6-frag.pcap", ipv6Frag},
		{"sll2.pcap", sll2},
		{"nano.pcapng", nano},
		{"passive-dns.pcap", passiveDNS},
		{"ech.pcap", echCapture},
		{"encrypted-dns.pcap", encryptedDNS},
		{"tunnel-gre.pcap", tunnelCapture(tunnelGRE)},
		{"tunnel-gre-teb.pcap", tunnelCapture(tunnelGRETEB)},
		{"tunnel-erspan2.pcap", tunnelCapture(tunnelERSPAN2)},
		{"tunnel-erspan3.pcap", tunnelCapture(tunnelERSPAN3)},
		{"tunnel-vxlan.pcap", tunnelCapture(tunnelVXLAN)},
		{"tunnel-geneve.pcap", tunnelCapture(tunnelGeneve)},
	} {
		b, err := c.build(hellos)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if err := os.WriteFile(filepath.Join(out, c.name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ---- ClientHellos ----

// recordConn is the client side of a connection that records what the
// client writes and ends the handshake at its first read.
type recordConn struct {
	net.Conn // nil: only the methods below are called
	buf      bytes.Buffer
}

func (c *recordConn) Write(b []byte) (int, error)      { return c.buf.Write(b) }
func (c *recordConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c *recordConn) Close() error                     { return nil }
func (c *recordConn) SetDeadline(time.Time) error      { return nil }
func (c *recordConn) SetReadDeadline(time.Time) error  { return nil }
func (c *recordConn) SetWriteDeadline(time.Time) error { return nil }
func (c *recordConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *recordConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }

// recordHello runs a crypto/tls client for serverName and returns the TLS
// records of its ClientHello: TLS 1.2 and 1.3, ALPN h2 and http/1.1, the
// default curve preferences of this Go version (X25519MLKEM768 first in
// Go 1.24 and later, so the hello is about 1.8 KB).
func recordHello(serverName string, seed uint64) ([]byte, error) {
	return clientHelloRecords(&tls.Config{
		ServerName: serverName,
		NextProtos: []string{"h2", "http/1.1"},
		Rand:       rand.NewChaCha8(seedBytes(seed)),
		Time:       func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) },
	})
}

// clientHelloRecords runs a crypto/tls client with cfg against a
// connection that ends at the client's first read, and returns the TLS
// records it wrote: its ClientHello.
func clientHelloRecords(cfg *tls.Config) ([]byte, error) {
	var c recordConn
	err := tls.Client(&c, cfg).Handshake()
	if err == nil {
		return nil, errors.New("handshake succeeded against a closed connection")
	}
	b := bytes.Clone(c.buf.Bytes())
	if len(b) < 5 || b[0] != 22 {
		return nil, fmt.Errorf("client wrote %d bytes, not a handshake record", len(b))
	}
	return b, nil
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], seed)
	copy(s[8:], "egresswatch testdata gen")
	return s
}

// ---- frames ----

var base = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

var serialize = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, last} }

var (
	clientMAC = mac(0x01)
	routerMAC = mac(0xfe)
)

// link wraps an IP packet in its link-layer header.
type link interface {
	wrap(ip []byte, v6 bool, fromClient bool) ([]byte, error)
}

type ethernet struct{ vlans []uint16 } // outermost first; the first tag is an 802.1ad S-tag when there are two

func (e ethernet) wrap(ip []byte, v6, fromClient bool) ([]byte, error) {
	et := layers.EthernetTypeIPv4
	if v6 {
		et = layers.EthernetTypeIPv6
	}
	src, dst := clientMAC, routerMAC
	if !fromClient {
		src, dst = dst, src
	}
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: et}
	ls := []gopacket.SerializableLayer{eth}
	for i, id := range e.vlans {
		if i == 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			if len(e.vlans) > 1 {
				eth.EthernetType = layers.EthernetTypeQinQ
			}
		}
		tag := &layers.Dot1Q{VLANIdentifier: id, Type: et}
		if i+1 < len(e.vlans) {
			tag.Type = layers.EthernetTypeDot1Q
		}
		ls = append(ls, tag)
	}
	ls = append(ls, gopacket.Payload(ip))
	return serializeLayers(ls...)
}

type rawIP struct{}

func (rawIP) wrap(ip []byte, _, _ bool) ([]byte, error) { return ip, nil }

// sll2 writes the 20-byte LINKTYPE_LINUX_SLL2 header: protocol, reserved,
// interface index, ARPHRD_ type, packet type, address length, address.
type sll2Link struct{ ifindex uint32 }

func (l sll2Link) wrap(ip []byte, v6, fromClient bool) ([]byte, error) {
	h := make([]byte, 20, 20+len(ip))
	proto := uint16(layers.EthernetTypeIPv4)
	if v6 {
		proto = uint16(layers.EthernetTypeIPv6)
	}
	binary.BigEndian.PutUint16(h[0:], proto)
	binary.BigEndian.PutUint32(h[4:], l.ifindex)
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	src := routerMAC
	h[10] = 0 // PACKET_HOST
	if fromClient {
		src = clientMAC
		h[10] = 4 // PACKET_OUTGOING
	}
	h[11] = 6
	copy(h[12:], src)
	return append(h, ip...), nil
}

func serializeLayers(ls ...gopacket.SerializableLayer) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serialize, ls...); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// ipPacket serializes an IPv4 or IPv6 header, the transport layer and payload.
func ipPacket(src, dst netip.Addr, ipID uint16, transport gopacket.SerializableLayer, payload []byte) ([]byte, error) {
	var nl gopacket.NetworkLayer
	var ipl gopacket.SerializableLayer
	proto := layers.IPProtocolTCP
	if _, ok := transport.(*layers.UDP); ok {
		proto = layers.IPProtocolUDP
	}
	if src.Is4() {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: ipID, Flags: layers.IPv4DontFragment,
			Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		nl, ipl = ip, ip
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		nl, ipl = ip, ip
	}
	switch t := transport.(type) {
	case *layers.TCP:
		if err := t.SetNetworkLayerForChecksum(nl); err != nil {
			return nil, err
		}
	case *layers.UDP:
		if err := t.SetNetworkLayerForChecksum(nl); err != nil {
			return nil, err
		}
	}
	return serializeLayers(ipl, transport, gopacket.Payload(payload))
}

// capFile collects the frames of one capture.
type capFile struct {
	t    time.Time
	step time.Duration
	pkts []pcaptest.Packet
	err  error
}

func newCap(start time.Time, step time.Duration) *capFile { return &capFile{t: start, step: step} }

func (c *capFile) add(ifc int, data []byte, err error) {
	if c.err != nil {
		return
	}
	if err != nil {
		c.err = err
		return
	}
	c.pkts = append(c.pkts, pcaptest.Packet{Time: c.t, Data: data, Interface: ifc})
	c.t = c.t.Add(c.step)
}

func (c *capFile) pcap(lt layers.LinkType) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	var b bytes.Buffer
	err := pcaptest.WritePcap(&b, lt, false, binary.LittleEndian, c.pkts)
	return b.Bytes(), err
}

// tcpConn writes the frames of one TCP connection.
type tcpConn struct {
	c        *capFile
	l        link
	ifc      int
	cli, srv netip.AddrPort
	seq      [2]uint32 // next sequence number: [0] client, [1] server
	ipID     [2]uint16
}

func newTCP(c *capFile, l link, cli, srv netip.AddrPort, iss uint32) *tcpConn {
	return &tcpConn{c: c, l: l, cli: cli, srv: srv, seq: [2]uint32{iss, iss ^ 0x5a5a0000}, ipID: [2]uint16{0x100, 0x900}}
}

func (t *tcpConn) dir(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

// segment writes one segment at an explicit sequence number.
func (t *tcpConn) segment(fromClient bool, seq uint32, flags string, payload []byte) {
	d := t.dir(fromClient)
	src, dst := t.cli, t.srv
	if !fromClient {
		src, dst = dst, src
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: seq, Window: 64240, PSH: len(payload) > 0,
		SYN: strings.Contains(flags, "S"), FIN: strings.Contains(flags, "F"), RST: strings.Contains(flags, "R")}
	if strings.Contains(flags, "A") {
		tcp.ACK, tcp.Ack = true, t.seq[1-d]
	}
	ip, err := ipPacket(src.Addr(), dst.Addr(), t.ipID[d], tcp, payload)
	t.ipID[d]++
	var fr []byte
	if err == nil {
		fr, err = t.l.wrap(ip, src.Addr().Is6(), fromClient)
	}
	t.c.add(t.ifc, fr, err)
}

// send writes a segment at the sender's next sequence number and advances it.
func (t *tcpConn) send(fromClient bool, flags string, payload []byte) {
	d := t.dir(fromClient)
	t.segment(fromClient, t.seq[d], flags, payload)
	t.seq[d] += uint32(len(payload))
	if strings.ContainsAny(flags, "SF") {
		t.seq[d]++
	}
}

func (t *tcpConn) open() {
	t.send(true, "S", nil)
	t.send(false, "SA", nil)
	t.send(true, "A", nil)
}

func (t *tcpConn) close() {
	t.send(true, "FA", nil)
	t.send(false, "FA", nil)
	t.send(true, "A", nil)
}

// udp writes one datagram.
func udp(c *capFile, l link, ifc int, src, dst netip.AddrPort, ipID uint16, fromClient bool, payload []byte) {
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	ip, err := ipPacket(src.Addr(), dst.Addr(), ipID, u, payload)
	var fr []byte
	if err == nil {
		fr, err = l.wrap(ip, src.Addr().Is6(), fromClient)
	}
	c.add(ifc, fr, err)
}

// ---- DNS ----

func query(id uint16, name string, qtype uint16) ([]byte, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = id
	return m.Pack()
}

func answer(id uint16, name string, qtype uint16, rrs ...string) ([]byte, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.Id = id
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	m.Compress = true
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			return nil, fmt.Errorf("rr %q: %w", s, err)
		}
		m.Answer = append(m.Answer, rr)
	}
	return m.Pack()
}

// lenPrefixed frames DNS messages for TCP (RFC 1035 section 4.2.2).
func lenPrefixed(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
	}
	return b
}

// must collects the first error of a sequence of builders.
type must struct{ err error }

func (m *must) b(b []byte, err error) []byte {
	if m.err == nil && err != nil {
		m.err = err
	}
	return b
}

var (
	client4  = netip.MustParseAddr("192.0.2.10")
	resolver = netip.MustParseAddr("192.0.2.53")
	client6  = netip.MustParseAddr("2001:db8::10")
	resolve6 = netip.MustParseAddr("2001:db8::53")
)

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// ---- captures ----

// tlsSplit: a handshake, then the ClientHello in three in-order segments.
func tlsSplit(h map[string][]byte) ([]byte, error) {
	c := newCap(base, time.Millisecond)
	hello := h["split.example.org"]
	t := newTCP(c, ethernet{}, ap(client4, 49152), ap(netip.MustParseAddr("198.51.100.20"), 443), 1000)
	t.open()
	n := len(hello) / 3
	t.send(true, "A", hello[:n])
	t.send(true, "A", hello[n:2*n])
	t.send(true, "A", hello[2*n:])
	t.send(false, "A", nil)
	t.close()
	return c.pcap(layers.LinkTypeEthernet)
}

// tlsOutOfOrder: the hello in three segments sent 3, 1, 2, with segment 1
// retransmitted and a segment overlapping 1 and 2 before 2 arrives.
func tlsOutOfOrder(h map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(time.Minute), time.Millisecond)
	hello := h["ooo.example.org"]
	t := newTCP(c, ethernet{}, ap(client4, 49153), ap(netip.MustParseAddr("198.51.100.21"), 443), 0xfffffcff)
	t.open()
	s := t.seq[0] // the hello's first byte; the sequence space wraps inside it
	a, b := 700, 1400
	t.segment(true, s+uint32(b), "A", hello[b:])            // 3
	t.segment(true, s, "A", hello[:a])                      // 1
	t.segment(true, s, "A", hello[:a])                      // 1 again: a retransmission
	t.segment(true, s+uint32(a-50), "A", hello[a-50:a+400]) // overlaps the end of 1 and the start of 2
	t.segment(true, s+uint32(a), "A", hello[a:b])           // 2
	t.seq[0] += uint32(len(hello))
	t.send(false, "A", nil)
	t.close()
	return c.pcap(layers.LinkTypeEthernet)
}

// dnsTCP: DNS over TCP; one segment carries two queries, the three
// responses (CNAME chains with A, AAAA and HTTPS answers) are split across
// two segments in the middle of the second response.
func dnsTCP(map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(2*time.Minute), time.Millisecond)
	var m must
	const name = "www.example.com"
	chain := []string{
		"www.example.com. 300 IN CNAME www.example.com.cdn.example.net.",
		"www.example.com.cdn.example.net. 60 IN CNAME edge7.cdn.example.net.",
	}
	qA := m.b(query(0x1111, name, dns.TypeA))
	qAAAA := m.b(query(0x2222, name, dns.TypeAAAA))
	qHTTPS := m.b(query(0x3333, name, dns.TypeHTTPS))
	rA := m.b(answer(0x1111, name, dns.TypeA, append(chain, "edge7.cdn.example.net. 20 IN A 203.0.113.10", "edge7.cdn.example.net. 20 IN A 203.0.113.11")...))
	rAAAA := m.b(answer(0x2222, name, dns.TypeAAAA, append(chain, "edge7.cdn.example.net. 20 IN AAAA 2001:db8:cd::10")...))
	rHTTPS := m.b(answer(0x3333, name, dns.TypeHTTPS, append(chain,
		`edge7.cdn.example.net. 20 IN HTTPS 1 . alpn="h2,h3" ipv4hint="203.0.113.10" ech="AEb+DQBCAQAgACBhbGwgdGhpcyBpcyB0ZXN0IGRhdGEgb25seSEhISEAAQABAA9wdWJsaWMuZXhhbXBsZQAA"`)...))
	if m.err != nil {
		return nil, m.err
	}
	t := newTCP(c, ethernet{}, ap(client4, 49154), ap(resolver, 53), 5000)
	t.open()
	t.send(true, "A", lenPrefixed(qA, qAAAA))
	t.send(true, "A", lenPrefixed(qHTTPS))
	resp := lenPrefixed(rA, rAAAA, rHTTPS)
	cut := 2 + len(rA) + 2 + len(rAAAA)/2
	t.send(false, "A", resp[:cut])
	t.send(false, "A", resp[cut:])
	t.send(true, "A", nil)
	t.close()
	return c.pcap(layers.LinkTypeEthernet)
}

// qinq: 802.1ad S-tag 100 and 802.1Q C-tag 120 around a DNS exchange and a
// TLS connection to the address it returned.
func qinq(h map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(3*time.Minute), time.Millisecond)
	var m must
	l := ethernet{vlans: []uint16{100, 120}}
	srv := netip.MustParseAddr("198.51.100.30")
	q := m.b(query(0x4444, "qinq.example.org", dns.TypeA))
	r := m.b(answer(0x4444, "qinq.example.org", dns.TypeA, "qinq.example.org. 120 IN A 198.51.100.30"))
	if m.err != nil {
		return nil, m.err
	}
	udp(c, l, 0, ap(client4, 50001), ap(resolver, 53), 1, true, q)
	udp(c, l, 0, ap(resolver, 53), ap(client4, 50001), 2, false, r)
	t := newTCP(c, l, ap(client4, 49155), ap(srv, 443), 7000)
	t.open()
	hello := h["qinq.example.org"]
	t.send(true, "A", hello[:1400])
	t.send(true, "A", hello[1400:])
	t.send(false, "A", nil)
	t.close()
	return c.pcap(layers.LinkTypeEthernet)
}

// ipv6Frag: an IPv6 UDP DNS response of about 3000 bytes in three
// fragments (Fragment extension header), the last one sent first.
func ipv6Frag(map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(4*time.Minute), time.Millisecond)
	var m must
	const name = "big.example.org"
	var rrs []string
	for i := range 12 {
		rrs = append(rrs, fmt.Sprintf(`big.example.org. 600 IN TXT "v=fixture%02d %s"`, i, strings.Repeat(string(rune('a'+i)), 220)))
	}
	q := m.b(query(0x5555, name, dns.TypeTXT))
	r := m.b(answer(0x5555, name, dns.TypeTXT, rrs...))
	if m.err != nil {
		return nil, m.err
	}
	l := ethernet{}
	cli, srv := ap(client6, 53001), ap(resolve6, 53)
	udp(c, l, 0, cli, srv, 0, true, q)
	// The whole datagram, then its UDP part cut into fragments.
	whole, err := ipPacket(srv.Addr(), cli.Addr(), 0, &layers.UDP{SrcPort: 53, DstPort: 53001}, r)
	if err != nil {
		return nil, err
	}
	udpPart := whole[40:]
	const chunk = 1232 // a multiple of 8
	type piece struct {
		off  int
		more bool
	}
	var pieces []piece
	for off := 0; off < len(udpPart); off += chunk {
		pieces = append(pieces, piece{off, off+chunk < len(udpPart)})
	}
	if len(pieces) != 3 {
		return nil, fmt.Errorf("%d fragments, want 3", len(pieces))
	}
	for _, i := range []int{2, 0, 1} {
		p := pieces[i]
		end := min(p.off+chunk, len(udpPart))
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment,
			SrcIP: srv.Addr().AsSlice(), DstIP: cli.Addr().AsSlice()}
		fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(p.off / 8),
			MoreFragments: p.more, Identification: 0x0bad1dea}
		pkt, err := serializeLayers(ip, fh, gopacket.Payload(udpPart[p.off:end]))
		var fr []byte
		if err == nil {
			fr, err = l.wrap(pkt, true, false)
		}
		c.add(0, fr, err)
	}
	return c.pcap(layers.LinkTypeEthernet)
}

// sll2: a plain HTTP GET in LINKTYPE_LINUX_SLL2 frames.
func sll2(map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(5*time.Minute), time.Millisecond)
	t := newTCP(c, sll2Link{ifindex: 2}, ap(netip.MustParseAddr("192.0.2.11"), 40000),
		ap(netip.MustParseAddr("198.51.100.40"), 8080), 9000)
	t.open()
	t.send(true, "A", []byte("GET /status?full=1 HTTP/1.1\r\nHost: sll2.example.net:8080\r\nUser-Agent: gen/1\r\nAccept: */*\r\n\r\n"))
	t.send(false, "A", []byte("HTTP/1.1 204 No Content\r\nServer: fixture\r\n\r\n"))
	t.close()
	return c.pcap(layers.LinkTypeLinuxSLL2)
}

// nano: pcapng with an Ethernet and a raw-IPv4 interface, both with
// nanosecond timestamps (if_tsresol 9), an HTTP request on the first and
// a DNS query on the second.
func nano(map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(6*time.Minute+123456789*time.Nanosecond), 1001*time.Nanosecond)
	t := newTCP(c, ethernet{}, ap(client4, 40001), ap(netip.MustParseAddr("198.51.100.50"), 80), 11000)
	t.open()
	t.send(true, "A", []byte("GET / HTTP/1.1\r\nHost: nano.example.com\r\n\r\n"))
	q, err := query(0x6666, "nano-dns.example.com", dns.TypeAAAA)
	if err != nil {
		return nil, err
	}
	udp(c, rawIP{}, 1, ap(client4, 50002), ap(resolver, 53), 3, true, q)
	t.send(false, "A", nil)
	if c.err != nil {
		return nil, c.err
	}
	ifaces := []pcaptest.Interface{
		{LinkType: layers.LinkTypeEthernet, TSResol: 9},
		{LinkType: layers.LinkTypeRaw, TSResol: 9},
	}
	var b bytes.Buffer
	err = pcaptest.WritePcapng(&b, pcaptest.Section{Interfaces: ifaces, Packets: c.pkts})
	return b.Bytes(), err
}

// passiveDNS: an answer for cdn.example.com, then a TCP connection to the
// address it gave whose payload is not TLS: the flow is named from DNS.
func passiveDNS(map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(7*time.Minute), time.Millisecond)
	var m must
	q := m.b(query(0x7777, "cdn.example.com", dns.TypeA))
	r := m.b(answer(0x7777, "cdn.example.com", dns.TypeA, "cdn.example.com. 300 IN A 203.0.113.7"))
	if m.err != nil {
		return nil, m.err
	}
	l := ethernet{}
	udp(c, l, 0, ap(client4, 50003), ap(resolver, 53), 1, true, q)
	udp(c, l, 0, ap(resolver, 53), ap(client4, 50003), 2, false, r)
	t := newTCP(c, l, ap(client4, 49156), ap(netip.MustParseAddr("203.0.113.7"), 443), 13000)
	t.open()
	t.send(true, "A", []byte("\x00\x00\x00\x1cEGW1 binary protocol, not TLS"))
	t.send(false, "A", []byte("\x00\x00\x00\x02ok"))
	t.close()
	return c.pcap(layers.LinkTypeEthernet)
}
