package classify

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func packMsg(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDNS(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("Mixed.Example.COM.", dns.TypeHTTPS)
	q.Id = 0xbeef

	r := new(dns.Msg)
	r.SetReply(q)
	for _, s := range []string{
		"Mixed.Example.COM. 30 IN CNAME edge.example.net.",
		"edge.example.net. 20 IN A 203.0.113.5",
		"edge.example.net. 20 IN AAAA 2001:db8::5",
		`edge.example.net. 20 IN HTTPS 1 . alpn="h3" ech="AEX+DQBBAQAgACA="`,
		"edge.example.net. 20 IN MX 10 mail.example.net.",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		r.Answer = append(r.Answer, rr)
	}
	full := packMsg(t, r)

	badvers := new(dns.Msg)
	badvers.SetReply(q)
	badvers.SetEdns0(1232, false)
	badvers.Rcode = dns.RcodeBadVers // 16: needs the OPT record's extended bits

	tc := new(dns.Msg)
	tc.SetReply(q)
	tc.Truncated = true

	tests := []struct {
		name    string
		msg     []byte
		ok      bool
		partial bool
		qname   string
		rcode   uint16
		answers []string // type:data
		ech     bool
		trunc   bool
	}{
		{name: "query", msg: packMsg(t, q), ok: true, qname: "Mixed.Example.COM"},
		{name: "answer", msg: full, ok: true, qname: "Mixed.Example.COM", answers: []string{
			"CNAME:edge.example.net", "A:203.0.113.5", "AAAA:2001:db8::5", "HTTPS:1 . alpn=h3 ech=AEX+DQBBAQAgACA=", "MX:10 mail.example.net",
		}, ech: true},
		// Cut inside the answers: header and question survive.
		{name: "cut short", msg: full[:len(full)-30], ok: true, partial: true, qname: "Mixed.Example.COM"},
		{name: "extended rcode", msg: packMsg(t, badvers), ok: true, qname: "Mixed.Example.COM", rcode: dns.RcodeBadVers},
		{name: "truncated bit", msg: packMsg(t, tc), ok: true, qname: "Mixed.Example.COM", trunc: true},
		{name: "header only", msg: full[:11], ok: false},
		{name: "question cut", msg: full[:20], ok: false},
	}
	for _, tt := range tests {
		var m DNSMessage
		ok := parseDNS(tt.msg, &m)
		if ok != tt.ok {
			t.Errorf("%s: ok = %v; want %v", tt.name, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if m.Partial != tt.partial || m.QName != tt.qname || m.RCode != tt.rcode || m.ECH != tt.ech || m.Truncated != tt.trunc {
			t.Errorf("%s: partial=%v qname=%q rcode=%d ech=%v tc=%v; want %v %q %d %v %v", tt.name,
				m.Partial, m.QName, m.RCode, m.ECH, m.Truncated, tt.partial, tt.qname, tt.rcode, tt.ech, tt.trunc)
		}
		var got []string
		for _, a := range m.Answers {
			got = append(got, DNSTypeString(a.Type)+":"+a.Data)
		}
		if strings.Join(got, "|") != strings.Join(tt.answers, "|") {
			t.Errorf("%s: answers %q; want %q", tt.name, got, tt.answers)
		}
		if tt.name == "answer" && (m.Answers[1].Addr != netip.MustParseAddr("203.0.113.5") || m.Answers[1].TTL != 20) {
			t.Errorf("A answer addr %v ttl %d", m.Answers[1].Addr, m.Answers[1].TTL)
		}
	}
}

func TestParseHTTPRequest(t *testing.T) {
	tests := []struct {
		in       string
		st       httpStatus
		method   string
		host     string
		port     uint16
		target   string
		consumed int // -1: the length of in
	}{
		{"GET /a?b HTTP/1.1\r\nHost: Example.COM\r\n\r\n", httpDone, "GET", "example.com", 0, "/a?b", -1},
		{"GET / HTTP/1.1\r\nhost:x.example:8080\r\nAccept: */*\r\n\r\nbody", httpDone, "GET", "x.example", 8080, "/", 52},
		{"CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:DB8::1]:443\r\n\r\n", httpDone, "CONNECT", "2001:db8::1", 443, "[2001:db8::1]:443", -1},
		{"GET / HTTP/1.0\r\n\r\n", httpDone, "GET", "", 0, "/", -1},
		// Host found, headers not finished: reported, nothing consumed.
		{"GET / HTTP/1.1\r\nHost: a.example\r\nUser-Agent: x", httpDone, "GET", "a.example", 0, "/", 0},
		{"GET / HTTP/1.1\r\nHost: a.example:99999\r\n\r\n", httpDone, "GET", "a.example:99999", 0, "/", -1},
		{"GET / HTTP/1.1\r\nUser-Agent: x\r\n", httpNeedMore, "", "", 0, "", 0},
		{"GET / HTTP/1.1", httpNeedMore, "", "", 0, "", 0},
		// Odd request lines tshark still takes for requests (zeek-http-methods.pcap,
		// zeek-mixed-vlan-mpls.pcap): the Host counts.
		{"OPTIONS HTTP/1.1\nHost: www.google.com\n\n", httpDone, "OPTIONS", "www.google.com", 0, "", -1},
		{"OPTIONS\nHost: www.google.com\n\n", httpDone, "OPTIONS", "www.google.com", 0, "", -1},
		{"GET /HTTP/1.1\nHost: h\n\n", httpDone, "GET", "h", 0, "/HTTP/1.1", -1},
		{"GET /\r\n\r\n", httpDone, "GET", "", 0, "/", -1},
		{"GET / SPDY/3\r\n\r\n", httpDone, "GET", "", 0, "/ SPDY/3", -1},
		{"OPTIONSHTTP/1.1\nHost: h\n\n", httpNot, "", "", 0, "", 0},
		{"FROB\r\n\r\n", httpNot, "", "", 0, "", 0},
		{"\x16\x03\x01\x00\x10\r\n", httpNot, "", "", 0, "", 0},
	}
	for _, tt := range tests {
		var r HTTPRequest
		st, n := parseHTTPRequest([]byte(tt.in), &r)
		want := tt.consumed
		if want < 0 {
			want = len(tt.in)
		}
		if st != tt.st || n != want {
			t.Errorf("%q: status %d consumed %d; want %d %d", tt.in, st, n, tt.st, want)
			continue
		}
		if st == httpDone && (r.Method != tt.method || r.Host != tt.host || r.Port != tt.port || r.Target != tt.target) {
			t.Errorf("%q: %+v; want %s %q port %d target %q", tt.in, r, tt.method, tt.host, tt.port, tt.target)
		}
	}
	long := "GET /" + strings.Repeat("a", 5000) + " HTTP/1.1\r\nHost: h\r\n\r\n"
	var r HTTPRequest
	if st, _ := parseHTTPRequest([]byte(long), &r); st != httpDone || len(r.Target) != 2048 {
		t.Errorf("long target: status %d, target %d bytes; want done, 2048", st, len(r.Target))
	}
}
