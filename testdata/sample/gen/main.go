// Command gen writes testdata/sample/ministry.pcapng, the capture that
// `make demo` replays: a morning on a (fictional) ministry's network, made
// by this program, not recorded from anyone's traffic.
//
// Devices 10.20.1.15 and 10.20.1.16 sit on VLAN 120; the resolver is
// 10.20.0.53. Destinations are public addresses chosen so that free
// country data places them in GB, IE and US; TikTok's name resolves to an
// address from the documentation range, named only through DNS. The
// ClientHellos are real ones, made by Go's crypto/tls.
//
//	go run ./testdata/sample/gen
package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/egresswatch/egresswatch/capture/pcaptest"
)

var (
	t0       = time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)
	gwMAC    = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x01, 0x01}
	resolver = netip.MustParseAddr("10.20.0.53")
)

type device struct {
	ip  netip.Addr
	mac net.HardwareAddr
}

var (
	desk1 = device{netip.MustParseAddr("10.20.1.15"), net.HardwareAddr{0x00, 0x1b, 0x63, 0x10, 0x01, 0x15}}
	desk2 = device{netip.MustParseAddr("10.20.1.16"), net.HardwareAddr{0x00, 0x1b, 0x63, 0x10, 0x01, 0x16}}
)

type gen struct {
	pkts []pcaptest.Packet
	now  time.Time
	port uint16
}

func (g *gen) tick() time.Time { g.now = g.now.Add(3 * time.Millisecond); return g.now }

func (g *gen) frame(from, to device, l3 gopacket.SerializableLayer, l4 gopacket.SerializableLayer, payload []byte) {
	eth := &layers.Ethernet{SrcMAC: from.mac, DstMAC: to.mac, EthernetType: layers.EthernetTypeDot1Q}
	vlan := &layers.Dot1Q{VLANIdentifier: 120, Type: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, vlan, l3, l4, gopacket.Payload(payload)); err != nil {
		log.Fatal(err)
	}
	g.pkts = append(g.pkts, pcaptest.Packet{Time: g.tick(), Data: append([]byte(nil), buf.Bytes()...)})
}

func ip4(src, dst netip.Addr, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
}

func far(a netip.Addr) device { return device{a, gwMAC} }

// dnsExchange writes a query from dev and the resolver's answer.
func (g *gen) dnsExchange(dev device, name string, answers ...dns.RR) {
	g.port++
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	q.Id = g.port
	qb, _ := q.Pack()
	r := new(dns.Msg)
	r.SetReply(q)
	r.Answer = answers
	rb, _ := r.Pack()
	srv := device{resolver, gwMAC}
	udp := &layers.UDP{SrcPort: layers.UDPPort(g.port), DstPort: 53}
	_ = udp.SetNetworkLayerForChecksum(ip4(dev.ip, resolver, layers.IPProtocolUDP))
	g.frame(dev, srv, ip4(dev.ip, resolver, layers.IPProtocolUDP), udp, qb)
	if len(answers) == 0 {
		return
	}
	udp2 := &layers.UDP{SrcPort: 53, DstPort: layers.UDPPort(g.port)}
	ip := ip4(resolver, dev.ip, layers.IPProtocolUDP)
	_ = udp2.SetNetworkLayerForChecksum(ip)
	g.frame(srv, dev, ip, udp2, rb)
}

func a(name, addr string, ttl uint32) dns.RR {
	return &dns.A{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: net.ParseIP(addr)}
}

func cname(name, target string) dns.RR {
	return &dns.CNAME{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300}, Target: dns.Fqdn(target)}
}

// tcpSession writes a handshake, the client's first flight split into
// segments of at most mss bytes, a reply and some bulk data.
func (g *gen) tcpSession(dev device, dst netip.Addr, dport uint16, first []byte, mss, bulk int) {
	g.port++
	sport := 40000 + g.port
	srv := far(dst)
	cseq, sseq := uint32(1000*uint32(g.port)), uint32(7000000)
	seg := func(fromClient bool, flags string, seq, ack uint32, data []byte) {
		t := &layers.TCP{Seq: seq, Ack: ack, Window: 64240}
		for _, f := range flags {
			switch f {
			case 'S':
				t.SYN = true
			case 'A':
				t.ACK = true
			case 'P':
				t.PSH = true
			case 'F':
				t.FIN = true
			}
		}
		var ip *layers.IPv4
		if fromClient {
			t.SrcPort, t.DstPort = layers.TCPPort(sport), layers.TCPPort(dport)
			ip = ip4(dev.ip, dst, layers.IPProtocolTCP)
			_ = t.SetNetworkLayerForChecksum(ip)
			g.frame(dev, srv, ip, t, data)
		} else {
			t.SrcPort, t.DstPort = layers.TCPPort(dport), layers.TCPPort(sport)
			ip = ip4(dst, dev.ip, layers.IPProtocolTCP)
			_ = t.SetNetworkLayerForChecksum(ip)
			g.frame(srv, dev, ip, t, data)
		}
	}
	seg(true, "S", cseq, 0, nil)
	seg(false, "SA", sseq, cseq+1, nil)
	cseq++
	sseq++
	seg(true, "A", cseq, sseq, nil)
	for off := 0; off < len(first); off += mss {
		end := min(off+mss, len(first))
		seg(true, "PA", cseq, sseq, first[off:end])
		cseq += uint32(end - off)
	}
	data := bytes.Repeat([]byte{0x17, 0x03, 0x03, 0x05, 0x00}, 280)
	for i := 0; i < bulk; i++ {
		seg(false, "PA", sseq, cseq, data)
		sseq += uint32(len(data))
	}
	seg(true, "FA", cseq, sseq, nil)
	seg(false, "FA", sseq, cseq+1, nil)
}

// clientHello returns the first flight of a Go TLS client for sni.
func clientHello(sni string, alpn ...string) []byte {
	var rec recorder
	c := tls.Client(&rec, &tls.Config{ServerName: sni, NextProtos: alpn, InsecureSkipVerify: true})
	_ = c.Handshake() // fails once the hello is written: the recorder ends the conversation
	return rec.Bytes()
}

type recorder struct{ bytes.Buffer }

func (r *recorder) Read([]byte) (int, error)         { return 0, errors.New("recorded") }
func (r *recorder) Close() error                     { return nil }
func (r *recorder) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (r *recorder) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (r *recorder) SetDeadline(time.Time) error      { return nil }
func (r *recorder) SetReadDeadline(time.Time) error  { return nil }
func (r *recorder) SetWriteDeadline(time.Time) error { return nil }

func main() {
	g := &gen{now: t0}
	ip := netip.MustParseAddr

	// 1. A desk opens TikTok: DNS names it (through a CDN alias), then TLS.
	g.dnsExchange(desk1, "www.tiktok.com", cname("www.tiktok.com", "www.tiktok.com.edgesuite.net"), a("www.tiktok.com.edgesuite.net", "23.52.40.10", 60))
	g.tcpSession(desk1, ip("23.52.40.10"), 443, clientHello("www.tiktok.com", "h2", "http/1.1"), 1200, 6)
	// 2. The same desk only looks up a ByteDance telemetry name.
	g.dnsExchange(desk1, "log-va.byteoversea.com")
	// 3. Approved: a UK service (GB) and a European one (in the EEA).
	g.tcpSession(desk2, ip("81.2.69.142"), 443, clientHello("portal.example-saas.co.uk", "h2"), 1400, 4)
	g.tcpSession(desk2, ip("185.41.88.10"), 443, clientHello("crm.example-eu.eu", "h2"), 1400, 3)
	// 4. Outside the approved jurisdictions: a US service over TLS, and plain HTTP.
	g.tcpSession(desk2, ip("13.107.42.14"), 443, clientHello("outlook.office365.com", "h2"), 1400, 8)
	g.tcpSession(desk1, ip("93.184.216.34"), 80, []byte("GET /feed HTTP/1.1\r\nHost: news.example.com\r\nUser-Agent: demo\r\n\r\n"), 1400, 2)
	// 5. An outside encrypted resolver: DNS over TLS to dns.google.
	g.tcpSession(desk1, ip("8.8.8.8"), 853, clientHello("dns.google"), 1400, 1)
	// 6. Named only by passive DNS: the answer comes first, then a
	//    non-TLS connection to the address.
	g.dnsExchange(desk2, "files.example-share.com", a("files.example-share.com", "104.16.133.229", 300))
	g.tcpSession(desk2, ip("104.16.133.229"), 8443, []byte("\x00\x01binary-sync-protocol"), 1400, 2)
	// 7. A repeat of 4 a minute later: suppressed into the first alert's window.
	g.now = g.now.Add(time.Minute)
	g.tcpSession(desk2, ip("13.107.42.14"), 443, clientHello("outlook.office365.com", "h2"), 1400, 2)

	f, err := os.Create("testdata/sample/ministry.pcapng")
	if err != nil {
		log.Fatal(err)
	}
	sec := pcaptest.Section{
		Interfaces: []pcaptest.Interface{{LinkType: layers.LinkTypeEthernet, SnapLen: 65535, TSResol: 9}},
		Packets:    g.pkts,
	}
	if err := pcaptest.WritePcapng(f, sec); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %d frames", len(g.pkts))
}
