// Command bareloop is the "limit of Go" reference of the benchmark: the least a Go program
// must do to name egress traffic, and nothing more. It reads a pcap with pcapgo's zero-copy
// reader, decodes each frame with one gopacket DecodingLayerParser (Ethernet, 802.1Q, IPv4,
// IPv6, TCP, UDP), reads DNS question names, reassembles the first flight of TCP port 443
// flows until the ClientHello is whole and parses its SNI (classify/tlshello), and decrypts
// QUIC Initials to the same end (classify/quic). No flow table beyond that, no placement, no
// policy, no output but the counts at the end.
//
//	bareloop FILE.pcap
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/egresswatch/egresswatch/classify/quic"
	"github.com/egresswatch/egresswatch/classify/tlshello"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bareloop FILE.pcap")
		os.Exit(2)
	}
	c, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareloop:", err)
		os.Exit(1)
	}
	fmt.Printf("packets %d, bytes %d, DNS names %d, TLS SNI %d, QUIC SNI %d, undecoded %d\n",
		c.packets, c.bytes, c.dnsNames, c.tlsSNI, c.quicSNI, c.undecoded)
}

type counts struct {
	packets, bytes, dnsNames, tlsSNI, quicSNI, undecoded int
}

// key is one direction of a flow: client to server.
type key struct {
	src, dst     [16]byte
	sport, dport uint16
}

type tcpFlow struct {
	next uint32
	buf  []byte
}

type loop struct {
	c       counts
	tcp     map[key]*tcpFlow
	quic    map[key]*quic.Conn
	tcpFree []*tcpFlow
	qFree   []*quic.Conn
	scratch []byte
	hello   tlshello.ClientHello
	name    []byte
}

// maxFirstFlight bounds what is held for one flow before its ClientHello is whole.
const maxFirstFlight = 64 << 10

func run(path string) (counts, error) {
	f, err := os.Open(path)
	if err != nil {
		return counts{}, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return counts{}, fmt.Errorf("%s: %w", path, err)
	}
	var (
		eth   layers.Ethernet
		dot1q layers.Dot1Q
		ip4   layers.IPv4
		ip6   layers.IPv6
		tcp   layers.TCP
		udp   layers.UDP
		pl    gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp, &udp, &pl)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	l := &loop{tcp: map[key]*tcpFlow{}, quic: map[key]*quic.Conn{}, scratch: make([]byte, 0, maxFirstFlight)}
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return l.c, fmt.Errorf("%s: packet %d: %w", path, l.c.packets+1, err)
		}
		l.c.packets++
		l.c.bytes += len(data)
		if err := p.DecodeLayers(data, &decoded); err != nil {
			l.c.undecoded++
			continue
		}
		var k key
		isTCP, isUDP := false, false
		for _, t := range decoded {
			switch t {
			case layers.LayerTypeIPv4:
				copy(k.src[:], ip4.SrcIP.To16())
				copy(k.dst[:], ip4.DstIP.To16())
			case layers.LayerTypeIPv6:
				copy(k.src[:], ip6.SrcIP)
				copy(k.dst[:], ip6.DstIP)
			case layers.LayerTypeTCP:
				isTCP = true
			case layers.LayerTypeUDP:
				isUDP = true
			}
		}
		switch {
		case isTCP && tcp.DstPort == 443:
			k.sport, k.dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
			l.tcpSegment(k, &tcp)
		case isUDP && (udp.SrcPort == 53 || udp.DstPort == 53):
			l.dns(udp.Payload)
		case isUDP && udp.DstPort == 443:
			k.sport, k.dport = uint16(udp.SrcPort), uint16(udp.DstPort)
			l.quicDatagram(k, udp.Payload)
		}
	}
	return l.c, nil
}

func (l *loop) tcpSegment(k key, t *layers.TCP) {
	f := l.tcp[k]
	if t.SYN && !t.ACK {
		if f == nil {
			f = l.newTCP()
			l.tcp[k] = f
		}
		f.next, f.buf = t.Seq+1, f.buf[:0]
		return
	}
	if t.FIN || t.RST {
		if f != nil {
			l.dropTCP(k, f)
		}
		return
	}
	if len(t.Payload) == 0 {
		return
	}
	if f == nil {
		if !tlshello.LooksLikeTLS(t.Payload) {
			return
		}
		f = l.newTCP()
		f.next = t.Seq
		l.tcp[k] = f
	}
	if t.Seq != f.next { // retransmission or a gap: the bare loop gives up on gaps
		if int32(t.Seq-f.next) > 0 {
			l.dropTCP(k, f)
		}
		return
	}
	f.buf = append(f.buf, t.Payload...)
	f.next += uint32(len(t.Payload))
	msg, st, _ := tlshello.Assemble(f.buf, l.scratch[:0])
	switch st {
	case tlshello.StatusComplete:
		if tlshello.ParseInto(&l.hello, msg) == nil && l.hello.ServerName != "" {
			l.c.tlsSNI++
		}
		l.dropTCP(k, f)
	case tlshello.StatusNotTLS:
		l.dropTCP(k, f)
	default:
		if len(f.buf) > maxFirstFlight {
			l.dropTCP(k, f)
		}
	}
}

func (l *loop) newTCP() *tcpFlow {
	if n := len(l.tcpFree); n > 0 {
		f := l.tcpFree[n-1]
		l.tcpFree = l.tcpFree[:n-1]
		return f
	}
	return &tcpFlow{}
}

func (l *loop) dropTCP(k key, f *tcpFlow) {
	delete(l.tcp, k)
	f.buf = f.buf[:0]
	l.tcpFree = append(l.tcpFree, f)
}

func (l *loop) quicDatagram(k key, d []byte) {
	c := l.quic[k]
	if c == nil {
		if !quic.LooksLikeInitial(d) {
			return
		}
		if n := len(l.qFree); n > 0 {
			c = l.qFree[n-1]
			l.qFree = l.qFree[:n-1]
		} else {
			c = new(quic.Conn)
		}
		l.quic[k] = c
	}
	res, err := c.Feed(d)
	if err != nil || !res.Complete {
		return
	}
	if tlshello.ParseInto(&l.hello, res.Hello) == nil && l.hello.ServerName != "" {
		l.c.quicSNI++
	}
	delete(l.quic, k)
	c.Reset()
	l.qFree = append(l.qFree, c)
}

// dns reads the question names of a DNS message (RFC 1035 Section 4.1.2) into a dotted
// name, as a program that logs them would.
func (l *loop) dns(m []byte) {
	if len(m) < 12 {
		return
	}
	qd := int(m[4])<<8 | int(m[5])
	off := 12
	for ; qd > 0; qd-- {
		l.name = l.name[:0]
		for {
			if off >= len(m) {
				return
			}
			n := int(m[off])
			off++
			if n == 0 {
				break
			}
			if n&0xc0 != 0 || off+n > len(m) { // no compression in questions here
				return
			}
			if len(l.name) > 0 {
				l.name = append(l.name, '.')
			}
			l.name = append(l.name, m[off:off+n]...)
			off += n
		}
		off += 4 // type, class
		if len(l.name) > 0 {
			l.c.dnsNames++
		}
	}
}
