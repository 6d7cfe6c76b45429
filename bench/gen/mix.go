package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// world is the population of a realistic capture: client hosts (some on VLANs, some
// dual-stack), resolvers, and named servers with a popularity skew.
type world struct {
	rng       *rand.Rand
	clients   []client
	names     []name
	zipf      *rand.Zipf
	res4      []netip.Addr // resolvers reached over IPv4; the first is internal
	res6      netip.Addr
	gwMAC     [6]byte
	resMAC    [6]byte
	tcpHellos []helloTemplate
	qHellos   []helloTemplate
	noise     []byte
	fb        frameBuilder
	scratch   []byte
	st        stats
}

type client struct {
	mac  [6]byte
	v4   netip.Addr
	v6   netip.Addr // zero: IPv4 only
	vlan uint16
}

type name struct {
	fqdn  string
	cname string // "" or a CDN alias the name points to
	v4    []netip.Addr
	v6    []netip.Addr
	ttl   uint32
}

// stats describes what was written, printed on stderr at the end.
type stats struct {
	packets, bytes           int64
	dnsMsgs                  int64
	tlsHellos, splitHellos   int64
	quicHellos, quicSplit    int64
	httpReqs                 int64
	vlanTagged, ipv6         int64
	tcpSessions, udpSessions int64
}

func (s *stats) count(mark uint8) {
	if mark&markHello != 0 {
		s.tlsHellos++
	}
	if mark&markSplit != 0 {
		s.splitHellos++
	}
	if mark&markQUIC != 0 {
		s.quicHellos++
	}
	if mark&markQUICSplit != 0 {
		s.quicSplit++
	}
	if mark&markHTTP != 0 {
		s.httpReqs++
	}
}

func (s *stats) String() string {
	p := float64(s.packets)
	return fmt.Sprintf("packets %d, %d bytes (%.1f MB), DNS messages %d (%.1f%%), TLS ClientHellos %d (%d split over segments), "+
		"QUIC ClientHellos %d (%d over two Initials), HTTP requests %d, VLAN-tagged %.1f%%, IPv6 %.1f%%",
		s.packets, s.bytes, float64(s.bytes)/1e6, s.dnsMsgs, 100*float64(s.dnsMsgs)/p, s.tlsHellos, s.splitHellos,
		s.quicHellos, s.quicSplit, s.httpReqs, 100*float64(s.vlanTagged)/p, 100*float64(s.ipv6)/p)
}

const (
	nClients = 4000
	nServer4 = 30000
	nServer6 = 6000
	nNames   = 12000
)

var (
	syllables = []string{"ka", "lo", "mi", "ne", "ra", "to", "vu", "zen", "pa", "si", "qua", "bel", "tor", "fin",
		"gal", "dor", "ex", "io", "nor", "sky", "mar", "lin", "tec", "vox", "ori", "pix", "sol", "tra", "hub", "neo"}
	tlds = []string{"com", "com", "com", "com", "net", "net", "org", "io", "co.uk", "co.uk", "gov.uk", "de", "fr",
		"nl", "ie", "eu", "cn", "ru", "jp", "us", "app", "ch", "se", "pl"}
	subs      = []string{"www", "api", "cdn", "static", "img", "login", "auth", "mail", "update", "telemetry", "assets", "m", "edge", "video", "push"}
	cdnZones  = []string{"edgekey.net", "cloudfront.net", "akamaiedge.net", "fastly.net", "azureedge.net", "trafficmanager.net"}
	wellKnown = []string{"www.tiktok.com", "v16m.tiktokcdn.com", "mon.byteoversea.com", "www.bytedance.com",
		"dns.google", "cloudflare-dns.com", "login.microsoftonline.com", "www.gov.uk", "update.windowsupdate.com",
		"outlook.office365.com", "www.google.com", "s3.eu-west-2.amazonaws.com"}
	v6Prefixes = []uint16{0x2a00, 0x2a01, 0x2a02, 0x2a03, 0x2a04, 0x2600, 0x2604, 0x2606, 0x2607, 0x2620, 0x2400, 0x2401, 0x2404, 0x2405, 0x2406, 0x2001}
)

func newWorld(seed uint64, hellos []helloTemplate) *world {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	w := &world{rng: r, gwMAC: [6]byte{0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x01}, resMAC: [6]byte{0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x35}}
	for _, h := range hellos {
		if h.quic {
			w.qHellos = append(w.qHellos, h)
		} else {
			w.tcpHellos = append(w.tcpHellos, h)
		}
	}
	w.noise = make([]byte, 1<<18)
	for i := range w.noise {
		w.noise[i] = byte(r.Uint32())
	}
	w.fb.buf = make([]byte, 0, 4096)
	for i := 0; i < nClients; i++ {
		c := client{mac: [6]byte{0x02, 0x42, 0xac, byte(i >> 16), byte(i >> 8), byte(i)},
			v4: netip.AddrFrom4([4]byte{10, byte(20 + i/250), byte(i % 250), byte(1 + r.IntN(250))})}
		if r.IntN(100) < 50 {
			c.vlan = uint16(10 * (1 + r.IntN(20)))
		}
		if r.IntN(100) < 35 {
			c.v6 = netip.AddrFrom16([16]byte{0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a, byte(c.vlan >> 8), byte(c.vlan), 0, 0, 0, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
		}
		w.clients = append(w.clients, c)
	}
	w.res4 = []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("10.0.1.53"),
		netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("9.9.9.9")}
	w.res6 = netip.MustParseAddr("fd12:3456:789a::53")

	s4 := make([]netip.Addr, 0, nServer4)
	for len(s4) < nServer4 {
		a := [4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
		if a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 || (a[0] == 100 && a[1]&0xc0 == 64) ||
			(a[0] == 169 && a[1] == 254) || (a[0] == 172 && a[1]&0xf0 == 16) || (a[0] == 192 && a[1] == 168) || a[3] == 0 || a[3] == 255 {
			continue
		}
		s4 = append(s4, netip.AddrFrom4(a))
	}
	s6 := make([]netip.Addr, 0, nServer6)
	for len(s6) < nServer6 {
		var a [16]byte
		p := v6Prefixes[r.IntN(len(v6Prefixes))]
		a[0], a[1] = byte(p>>8), byte(p)
		for j := 2; j < 16; j++ {
			a[j] = byte(r.Uint32())
		}
		s6 = append(s6, netip.AddrFrom16(a))
	}
	seen := map[string]bool{}
	for len(w.names) < nNames {
		var fqdn string
		if len(w.names)%1000 == 7 && len(w.names)/1000 < len(wellKnown) {
			fqdn = wellKnown[len(w.names)/1000]
		} else {
			var sb strings.Builder
			if r.IntN(100) < 80 {
				sb.WriteString(subs[r.IntN(len(subs))])
				sb.WriteByte('.')
			}
			for k := 2 + r.IntN(2); k > 0; k-- {
				sb.WriteString(syllables[r.IntN(len(syllables))])
			}
			sb.WriteByte('.')
			sb.WriteString(tlds[r.IntN(len(tlds))])
			fqdn = sb.String()
		}
		if seen[fqdn] {
			continue
		}
		seen[fqdn] = true
		n := name{fqdn: fqdn, ttl: []uint32{30, 60, 300, 300, 600, 3600}[r.IntN(6)]}
		if r.IntN(100) < 30 {
			n.cname = syllables[r.IntN(len(syllables))] + syllables[r.IntN(len(syllables))] +
				fmt.Sprintf("%d.", r.IntN(1000)) + cdnZones[r.IntN(len(cdnZones))]
		}
		for k := 1 + r.IntN(3); k > 0; k-- {
			n.v4 = append(n.v4, s4[r.IntN(len(s4))])
		}
		if r.IntN(100) < 60 {
			for k := 1 + r.IntN(2); k > 0; k-- {
				n.v6 = append(n.v6, s6[r.IntN(len(s6))])
			}
		}
		w.names = append(w.names, n)
	}
	w.zipf = rand.NewZipf(r, 1.1, 20, uint64(len(w.names)-1))
	return w
}

// Session kinds.
const (
	kindTLS = iota
	kindQUIC
	kindHTTP
	kindDNS
)

// Op kinds.
const (
	opTCP   = iota // a TCP segment of n payload bytes from the direction's stream
	opUDP          // a prebuilt UDP payload dgrams[idx]
	opShort        // a QUIC short-header datagram of n bytes
	opDNS          // DNS message dns[idx] between client and resolver
)

type op struct {
	kind, dir, flags uint8
	mark             uint8 // what the packet completes, for the summary
	n, idx           int32
}

// Marks: counted when the packet is written, so sessions cut off at the end do not count.
const (
	markHello     = 1 << iota // the last segment of a TLS ClientHello
	markSplit                 // ... that spanned several segments
	markQUIC                  // the last Initial of a QUIC ClientHello
	markQUICSplit             // ... that spanned two Initials
	markHTTP                  // an HTTP request
)

// stream is one direction's TCP byte stream: a prebuilt prefix, then TLS application_data
// records (records) or opaque bytes.
type stream struct {
	prefix         []byte
	pos            int
	records        bool
	minRec, maxRec int
	hdr            [5]byte
	hdrOff, left   int
	noiseOff       int
}

func (s *stream) fill(w *world, dst []byte) {
	i := 0
	for i < len(dst) {
		if s.pos < len(s.prefix) {
			n := copy(dst[i:], s.prefix[s.pos:])
			s.pos += n
			i += n
			continue
		}
		if s.records {
			if s.hdrOff < 5 {
				dst[i] = s.hdr[s.hdrOff]
				s.hdrOff++
				i++
				continue
			}
			if s.left == 0 {
				l := s.minRec + w.rng.IntN(s.maxRec-s.minRec+1)
				s.hdr = [5]byte{23, 3, 3, byte(l >> 8), byte(l)}
				s.hdrOff, s.left = 0, l
				continue
			}
		}
		n := len(dst) - i
		if s.records && n > s.left {
			n = s.left
		}
		if s.noiseOff+n > len(w.noise) {
			s.noiseOff = 0
		}
		copy(dst[i:i+n], w.noise[s.noiseOff:])
		s.noiseOff += n
		i += n
		if s.records {
			s.left -= n
		}
	}
}

type session struct {
	kind       int
	c          *client
	v6         bool
	srv        netip.Addr
	cport      uint16
	sport      uint16
	ops        []op
	i          int
	cseq, sseq uint32
	cs, ss     stream
	dnsMsgs    [][]byte
	dnsRes     netip.Addr
	dnsPort    uint16
	dgrams     [][]byte
	dcid, scid [8]byte
}

func (w *world) randBytes(b []byte) {
	for i := range b {
		b[i] = byte(w.rng.Uint32())
	}
}

// newSession draws a session: client, destination, kind, and its whole op script.
func (w *world) newSession() (*session, error) {
	r := w.rng
	s := &session{c: &w.clients[r.IntN(len(w.clients))]}
	nm := &w.names[w.zipf.Uint64()]
	switch k := r.IntN(100); {
	case k < 59:
		s.kind = kindTLS
	case k < 84:
		s.kind = kindQUIC
	case k < 86:
		s.kind = kindHTTP
	default:
		s.kind = kindDNS
	}
	s.v6 = s.c.v6.IsValid() && len(nm.v6) > 0 && r.IntN(100) < 60
	if s.v6 {
		s.srv = nm.v6[r.IntN(len(nm.v6))]
	} else {
		s.srv = nm.v4[r.IntN(len(nm.v4))]
	}
	s.cport = uint16(32768 + r.IntN(28000))
	s.dnsPort = uint16(1024 + r.IntN(64000))
	s.dnsRes = w.res4[0]
	if k := r.IntN(100); k < 10 {
		s.dnsRes = w.res4[2+r.IntN(3)]
	} else if k < 40 {
		s.dnsRes = w.res4[1]
	}
	if s.c.v6.IsValid() && r.IntN(100) < 25 {
		s.dnsRes = w.res6
	}

	// Lookups before the connection (or alone).
	lookup := func(n *name, qtype uint16) error {
		q, a, err := w.dnsPair(n, qtype)
		if err != nil {
			return err
		}
		s.dnsMsgs = append(s.dnsMsgs, q, a)
		s.ops = append(s.ops, op{kind: opDNS, dir: 0, idx: int32(len(s.dnsMsgs) - 2)}, op{kind: opDNS, dir: 1, idx: int32(len(s.dnsMsgs) - 1)})
		return nil
	}
	if s.kind == kindDNS {
		for k := 1 + r.IntN(3); k > 0; k-- {
			n := &w.names[w.zipf.Uint64()]
			if err := lookup(n, dns.TypeA); err != nil {
				return nil, err
			}
			if r.IntN(2) == 0 {
				if err := lookup(n, dns.TypeAAAA); err != nil {
					return nil, err
				}
			}
		}
		return s, nil
	}
	if r.IntN(100) < 85 || s.v6 {
		if err := lookup(nm, dns.TypeA); err != nil {
			return nil, err
		}
		if s.v6 || r.IntN(100) < 60 {
			if err := lookup(nm, dns.TypeAAAA); err != nil {
				return nil, err
			}
		}
	}
	bulk := 4 + r.IntN(40)
	if r.IntN(10) == 0 {
		bulk = 100 + r.IntN(350)
	}
	mss := 1460
	if s.v6 {
		mss = 1440
	}
	var err error
	switch s.kind {
	case kindTLS:
		err = w.tlsScript(s, nm, bulk, mss)
	case kindHTTP:
		err = w.httpScript(s, nm, bulk, mss)
	case kindQUIC:
		err = w.quicScript(s, nm, bulk)
	}
	return s, err
}

func (w *world) dnsPair(n *name, qtype uint16) (q, a []byte, err error) {
	r := w.rng
	m := new(dns.Msg)
	m.Id = uint16(r.Uint32())
	m.RecursionDesired = true
	m.Question = []dns.Question{{Name: dns.Fqdn(n.fqdn), Qtype: qtype, Qclass: dns.ClassINET}}
	if r.IntN(100) < 70 {
		m.SetEdns0(1232, false)
	}
	if q, err = m.Pack(); err != nil {
		return nil, nil, fmt.Errorf("dns query %s: %w", n.fqdn, err)
	}
	resp := new(dns.Msg)
	resp.SetReply(m)
	resp.RecursionAvailable = true
	if r.IntN(100) < 2 {
		resp.Rcode = dns.RcodeNameError
	} else {
		owner := dns.Fqdn(n.fqdn)
		if n.cname != "" {
			resp.Answer = append(resp.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: n.ttl}, Target: dns.Fqdn(n.cname)})
			owner = dns.Fqdn(n.cname)
		}
		if qtype == dns.TypeA {
			for _, ip := range n.v4 {
				resp.Answer = append(resp.Answer, &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: n.ttl}, A: ip.AsSlice()})
			}
		} else {
			for _, ip := range n.v6 {
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: n.ttl}, AAAA: ip.AsSlice()})
			}
		}
	}
	resp.Compress = true
	if a, err = resp.Pack(); err != nil {
		return nil, nil, fmt.Errorf("dns answer %s: %w", n.fqdn, err)
	}
	return q, a, nil
}

func (s *session) tcpOpen() {
	s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpSYN}, op{kind: opTCP, dir: 1, flags: tcpSYN | tcpACK}, op{kind: opTCP, dir: 0, flags: tcpACK})
}

// segs adds the segments that carry n bytes of direction dir at most mss at a time, with an
// ACK from the other side after every second one.
func (s *session) segs(dir uint8, n, mss int) {
	for k := 0; n > 0; k++ {
		m := min(n, mss)
		n -= m
		fl := uint8(tcpACK)
		if n == 0 {
			fl |= tcpPSH
		}
		s.ops = append(s.ops, op{kind: opTCP, dir: dir, flags: fl, n: int32(m)})
		if k%2 == 1 {
			s.ops = append(s.ops, op{kind: opTCP, dir: 1 - dir, flags: tcpACK})
		}
	}
}

func (s *session) bulk(w *world, n int, requests bool) {
	for k := 0; k < n; k++ {
		if requests && k > 0 && k%20 == 0 {
			s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpACK | tcpPSH, n: int32(100 + w.rng.IntN(500))})
		}
		s.ops = append(s.ops, op{kind: opTCP, dir: 1, flags: tcpACK, n: int32(1000 + w.rng.IntN(401))})
		if k%2 == 1 {
			s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpACK})
		}
	}
}

func (s *session) tcpClose(w *world) {
	if w.rng.IntN(10) == 0 {
		s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpRST | tcpACK})
		return
	}
	s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpFIN | tcpACK}, op{kind: opTCP, dir: 1, flags: tcpFIN | tcpACK}, op{kind: opTCP, dir: 0, flags: tcpACK})
}

// serverHello is a minimal TLS 1.3 ServerHello record (RFC 8446 Section 4.1.3) followed by a
// ChangeCipherSpec record.
func (w *world) serverHello(sessID []byte) []byte {
	var body []byte
	body = append(body, 3, 3)
	body = append(body, make([]byte, 32)...)
	w.randBytes(body[2:34])
	body = append(body, byte(len(sessID)))
	body = append(body, sessID...)
	body = append(body, 0x13, 0x01, 0)
	ext := []byte{0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20}
	key := make([]byte, 32)
	w.randBytes(key)
	ext = append(ext, key...)
	body = append(body, byte(len(ext)>>8), byte(len(ext)))
	body = append(body, ext...)
	hs := append([]byte{2, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	rec := append([]byte{22, 3, 3, byte(len(hs) >> 8), byte(len(hs))}, hs...)
	return append(rec, 20, 3, 3, 0, 1, 1)
}

func (w *world) tlsScript(s *session, nm *name, bulk, mss int) error {
	r := w.rng
	s.sport = 443
	tmpl := w.tcpHellos[0]
	if k := r.IntN(100); k >= 45 && k < 90 {
		tmpl = w.tcpHellos[1]
	} else if k >= 90 {
		tmpl = w.tcpHellos[2]
	}
	msg, err := helloWith(nil, tmpl.msg, nm.fqdn, w.randBytes)
	if err != nil {
		return err
	}
	rec := append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
	s.cs = stream{prefix: rec, records: true, minRec: 60, maxRec: 700, hdrOff: 5, noiseOff: r.IntN(len(w.noise))}
	sid := msg[4+2+32+1 : 4+2+32+1+int(msg[4+2+32])]
	s.ss = stream{prefix: w.serverHello(sid), records: true, minRec: 1000, maxRec: 16384, hdrOff: 5, noiseOff: r.IntN(len(w.noise))}
	s.tcpOpen()
	mark := uint8(markHello | markSplit)
	switch {
	case len(rec) > mss:
		s.segs(0, len(rec), mss)
	case r.IntN(100) < 12:
		a := 1 + r.IntN(len(rec)-1)
		if r.IntN(2) == 0 || a > len(rec)-2 {
			s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpACK, n: int32(a)}, op{kind: opTCP, dir: 0, flags: tcpACK | tcpPSH, n: int32(len(rec) - a)})
		} else {
			b := a + 1 + r.IntN(len(rec)-a-1)
			s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpACK, n: int32(a)}, op{kind: opTCP, dir: 0, flags: tcpACK, n: int32(b - a)},
				op{kind: opTCP, dir: 0, flags: tcpACK | tcpPSH, n: int32(len(rec) - b)})
		}
	default:
		s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpACK | tcpPSH, n: int32(len(rec))})
		mark = markHello
	}
	for k := len(s.ops) - 1; ; k-- {
		if s.ops[k].dir == 0 && s.ops[k].n > 0 {
			s.ops[k].mark = mark
			break
		}
	}
	s.segs(1, len(s.ss.prefix)+2500+r.IntN(2500), mss) // ServerHello, then encrypted extensions and certificates
	s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpACK | tcpPSH, n: int32(64 + 150 + r.IntN(550))})
	s.bulk(w, bulk, true)
	s.tcpClose(w)
	return nil
}

func (w *world) httpScript(s *session, nm *name, bulk, mss int) error {
	r := w.rng
	s.sport = 80
	req := fmt.Sprintf("GET /%s/%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: Microsoft-CryptoAPI/10.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
		syllables[r.IntN(len(syllables))], r.IntN(100000), nm.fqdn)
	body := 0
	s.cs = stream{prefix: []byte(req), noiseOff: r.IntN(len(w.noise))}
	s.tcpOpen()
	s.ops = append(s.ops, op{kind: opTCP, dir: 0, flags: tcpACK | tcpPSH, n: int32(len(req)), mark: markHTTP})
	n := len(s.ops)
	s.bulk(w, bulk, false)
	for _, o := range s.ops[n:] {
		if o.dir == 1 {
			body += int(o.n)
		}
	}
	// The response header is the start of the server's bytes; the body is the rest.
	hdr := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %6d\r\n\r\n", 0)
	hdr = fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %6d\r\n\r\n", body-len(hdr))
	s.ss = stream{prefix: []byte(hdr), noiseOff: r.IntN(len(w.noise))}
	s.tcpClose(w)
	return nil
}

func (w *world) quicScript(s *session, nm *name, bulk int) error {
	r := w.rng
	s.sport = 443
	tmpl := w.qHellos[0]
	if r.IntN(100) < 40 {
		tmpl = w.qHellos[1]
	}
	msg, err := helloWith(nil, tmpl.msg, nm.fqdn, w.randBytes)
	if err != nil {
		return err
	}
	w.randBytes(s.dcid[:])
	w.randBytes(s.scid[:])
	sealer, err := newInitialSealer(s.dcid[:])
	if err != nil {
		return err
	}
	const chunk = 1100
	for off, pn := 0, uint32(0); off < len(msg); off, pn = off+chunk, pn+1 {
		end := min(off+chunk, len(msg))
		s.dgrams = append(s.dgrams, sealer.seal(nil, s.dcid[:], s.scid[:], pn, off, msg[off:end], 1252))
		s.ops = append(s.ops, op{kind: opUDP, dir: 0, idx: int32(len(s.dgrams) - 1)})
	}
	s.ops[len(s.ops)-1].mark = markQUIC
	if len(msg) > chunk {
		s.ops[len(s.ops)-1].mark |= markQUICSplit
	}
	// Server Initial and Handshake flights: long headers with opaque (to us) protected payloads.
	var srvCID [8]byte
	w.randBytes(srvCID[:])
	long := func(first byte, size int, dcid, scid []byte) []byte {
		b := []byte{first, 0, 0, 0, 1, byte(len(dcid))}
		b = append(b, dcid...)
		b = append(b, byte(len(scid)))
		b = append(b, scid...)
		if first&0x30 == 0 {
			b = append(b, 0) // token
		}
		l := size - len(b) - 2
		b = append(b, 0x40|byte(l>>8), byte(l))
		b = grow(b, l)
		w.randBytes(b[len(b)-l:])
		return b
	}
	for k := 0; k < 2; k++ {
		s.dgrams = append(s.dgrams, long(0xc1, 1200+r.IntN(52), s.scid[:], srvCID[:]))
		s.ops = append(s.ops, op{kind: opUDP, dir: 1, idx: int32(len(s.dgrams) - 1)})
	}
	s.dgrams = append(s.dgrams, long(0xe1, 400+r.IntN(800), s.scid[:], srvCID[:]))
	s.ops = append(s.ops, op{kind: opUDP, dir: 1, idx: int32(len(s.dgrams) - 1)})
	s.dgrams = append(s.dgrams, long(0xe1, 90+r.IntN(40), srvCID[:], s.scid[:]))
	s.ops = append(s.ops, op{kind: opUDP, dir: 0, idx: int32(len(s.dgrams) - 1)})
	copy(s.dcid[:], srvCID[:]) // short headers from the client now carry the server's CID
	for k := 0; k < bulk; k++ {
		if k > 0 && k%20 == 0 {
			s.ops = append(s.ops, op{kind: opShort, dir: 0, n: int32(100 + r.IntN(300))})
		}
		s.ops = append(s.ops, op{kind: opShort, dir: 1, n: int32(1200 + r.IntN(151))})
		if k%3 == 2 {
			s.ops = append(s.ops, op{kind: opShort, dir: 0, n: int32(40 + r.IntN(20))})
		}
	}
	return nil
}

// step writes the session's next packet; it reports whether the session is over.
func (w *world) step(s *session, pw *pcapWriter, t int64) (bool, error) {
	o := s.ops[s.i]
	s.i++
	var e ends
	e.vlan = s.c.vlan
	cmac, pmac := s.c.mac, w.gwMAC
	caddr, paddr := s.c.v4, s.srv
	cport, pport := s.cport, s.sport
	if o.kind == opDNS {
		paddr, cport, pport = s.dnsRes, s.dnsPort, 53
		if paddr.Is4() && !paddr.IsPrivate() {
			pmac = w.gwMAC
		} else {
			pmac = w.resMAC
		}
		if paddr.Is6() {
			caddr = s.c.v6
		}
	} else if s.v6 {
		caddr = s.c.v6
	}
	if o.dir == 0 {
		e.srcMAC, e.dstMAC, e.src, e.dst, e.sport, e.dport = cmac, pmac, caddr, paddr, cport, pport
	} else {
		e.srcMAC, e.dstMAC, e.src, e.dst, e.sport, e.dport = pmac, cmac, paddr, caddr, pport, cport
	}
	var frame []byte
	switch o.kind {
	case opDNS:
		frame = w.fb.udp(&e, s.dnsMsgs[o.idx])
	case opUDP:
		frame = w.fb.udp(&e, s.dgrams[o.idx])
	case opShort:
		b := grow(w.scratch[:0], int(o.n))
		b[0] = 0x40 | byte(w.rng.IntN(64))
		if o.dir == 0 {
			copy(b[1:9], s.dcid[:])
		} else {
			copy(b[1:9], s.scid[:])
		}
		off := w.rng.IntN(len(w.noise) - len(b))
		copy(b[9:], w.noise[off:])
		w.scratch = b
		frame = w.fb.udp(&e, b)
	case opTCP:
		if o.flags&tcpSYN != 0 && s.cseq == 0 && s.sseq == 0 {
			s.cseq, s.sseq = w.rng.Uint32()|1, w.rng.Uint32()|1
		}
		seq, ack, st := s.cseq, s.sseq, &s.cs
		if o.dir == 1 {
			seq, ack, st = s.sseq, s.cseq, &s.ss
		}
		if o.flags&tcpSYN != 0 && o.flags&tcpACK == 0 {
			ack = 0
		}
		frame = w.fb.tcp(&e, seq, ack, o.flags, int(o.n), func(b []byte) { st.fill(w, b) })
		adv := uint32(o.n)
		if o.flags&(tcpSYN|tcpFIN) != 0 {
			adv++
		}
		if o.dir == 0 {
			s.cseq += adv
		} else {
			s.sseq += adv
		}
	}
	if pw == nil {
		return s.i == len(s.ops), nil
	}
	if o.kind == opDNS {
		w.st.dnsMsgs++
	}
	if e.vlan != 0 {
		w.st.vlanTagged++
	}
	if e.src.Is6() {
		w.st.ipv6++
	}
	w.st.count(o.mark)
	w.st.packets++
	w.st.bytes += int64(len(frame))
	return s.i == len(s.ops), pw.write(t, frame)
}

// mix writes n packets of the realistic mix.
func (w *world) mix(pw *pcapWriter, n int64, t0 int64) error {
	const active = 1000
	ss := make([]*session, active)
	for i := range ss {
		s, err := w.newSession()
		if err != nil {
			return err
		}
		ss[i] = s
	}
	// Warm up without writing, so that the capture starts in the steady state (mid-flow, as
	// a real capture does) rather than with a thousand simultaneous lookups.
	const warmup = 100000
	t := t0 - warmup*41
	for k := int64(-warmup); k < n; k++ {
		t += 1 + int64(w.rng.ExpFloat64()*40)
		i := w.rng.IntN(active)
		var out *pcapWriter
		if k >= 0 {
			out = pw
		}
		done, err := w.step(ss[i], out, t)
		if err != nil {
			return err
		}
		if done {
			if ss[i], err = w.newSession(); err != nil {
				return err
			}
		}
	}
	return nil
}
