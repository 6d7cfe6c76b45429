package rules

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/geo"
)

const evalPolicy = `
version: 1
jurisdictions:
  approved: [UK, EEA, CH]
groups:
  government:
    cidrs: [10.20.0.0/16, "fd00:20::/32"]
    vlans: [120]
    macs: ["00:1b:63"]
  phones:
    macs: ["ac:de:48:00:11:22"]
  strict:
    cidrs: [10.30.0.0/16]
services:
  corp-saas:
    domains: [example-saas.com]
    asns: [64500]
    cidrs: [198.51.100.0/24]
rules:
  - id: gov-sensitive-app
    name: Government device contacted a data-residency-sensitive service
    from: [government, phones]
    to: [tiktok, bytedance]
    severity: high
  - id: gov-outside-approved
    name: Government traffic left approved jurisdictions
    from: [government]
    to: any
    allow: [approved]
    indeterminate: warn
    severity: medium
    except: {domains: [windowsupdate.com], asns: [64501], cidrs: [203.0.113.0/24]}
  - id: strict-saas
    name: Strict device used corporate SaaS outside the UK
    from: [strict]
    to: [corp-saas]
    allow: [UK]
    indeterminate: alert
    severity: critical
  - id: strict-any
    name: Strict device traffic with unknown placement ignored
    from: [strict]
    to: any
    allow: [UK]
    indeterminate: ignore
    severity: low
`

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("eval.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	gov      = netip.MustParseAddr("10.20.1.5")
	strict   = netip.MustParseAddr("10.30.0.9")
	other    = netip.MustParseAddr("10.99.0.1")
	usAddr   = netip.MustParseAddr("93.184.216.34")
	inCN     = geo.Placement{Country: "CN", ASN: 4134}
	inUS     = geo.Placement{Country: "US", ASN: 15133}
	inGB     = geo.Placement{Country: "GB"}
	inFR     = geo.Placement{Country: "FR"}
	anycast  = geo.Placement{Indeterminate: true, Reason: "anycast"}
	tiktokAS = geo.Placement{Country: "US", ASN: 396986}
)

func TestEvaluate(t *testing.T) {
	p := mustParse(t, evalPolicy)
	t0 := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	type want struct {
		rule, service string
		sev           Severity
		ind, dnsOnly  bool
		groups        string
	}
	for _, tt := range []struct {
		name string
		in   Input
		want []want
	}{
		{"gov by CIDR to US: outside approved",
			Input{Src: gov, Dst: usAddr, Name: "example.com", Place: inUS},
			[]want{{rule: "gov-outside-approved", sev: SeverityMedium, groups: "government"}}},
		{"gov to GB: inside approved",
			Input{Src: gov, Dst: usAddr, Place: inGB}, nil},
		{"gov to FR (EEA via EU): inside approved",
			Input{Src: gov, Dst: usAddr, Place: inFR}, nil},
		{"lower-case country still inside",
			Input{Src: gov, Dst: usAddr, Place: geo.Placement{Country: "ch"}}, nil},
		{"non-member device",
			Input{Src: other, Dst: usAddr, Name: "www.tiktok.com", Place: inCN}, nil},
		{"gov by VLAN (inner tag)",
			Input{Src: other, Device: flow.Device{VLAN: [2]uint16{300, 120}, NVLAN: 2}, Dst: usAddr, Place: inCN},
			[]want{{rule: "gov-outside-approved", sev: SeverityMedium, groups: "government"}}},
		{"VLAN tag with priority bits",
			Input{Src: other, Device: flow.Device{VLAN: [2]uint16{0x2000 | 120}, NVLAN: 1}, Dst: usAddr, Place: inCN},
			[]want{{rule: "gov-outside-approved", sev: SeverityMedium, groups: "government"}}},
		{"gov by OUI",
			Input{Src: other, Device: flow.Device{MAC: [6]byte{0x00, 0x1b, 0x63, 1, 2, 3}, HasMAC: true}, Dst: usAddr, Place: inCN},
			[]want{{rule: "gov-outside-approved", sev: SeverityMedium, groups: "government"}}},
		{"OUI ignored without HasMAC",
			Input{Src: other, Device: flow.Device{MAC: [6]byte{0x00, 0x1b, 0x63, 1, 2, 3}}, Dst: usAddr, Place: inCN}, nil},
		{"phone by full MAC to TikTok by SNI",
			Input{Src: other, Device: flow.Device{MAC: [6]byte{0xac, 0xde, 0x48, 0, 0x11, 0x22}, HasMAC: true}, Dst: usAddr, Name: "vcs-va.tiktokv.com", NameSource: flow.NameSNI, Place: inGB},
			[]want{{rule: "gov-sensitive-app", service: "tiktok", sev: SeverityHigh, groups: "phones"}}},
		{"other MAC in same OUI is not the phone",
			Input{Src: other, Device: flow.Device{MAC: [6]byte{0xac, 0xde, 0x48, 0, 0x11, 0x23}, HasMAC: true}, Dst: usAddr, Name: "vcs-va.tiktokv.com", Place: inGB}, nil},
		{"gov to TikTok in US: both rules",
			Input{Src: gov, Dst: usAddr, Name: "WWW.TikTok.com.", Place: inUS},
			[]want{{rule: "gov-sensitive-app", service: "tiktok", sev: SeverityHigh, groups: "government"},
				{rule: "gov-outside-approved", sev: SeverityMedium, groups: "government"}}},
		{"bytedance-only domain",
			Input{Src: gov, Dst: usAddr, Name: "sf16.byteimg.com", Place: inGB},
			[]want{{rule: "gov-sensitive-app", service: "bytedance", sev: SeverityHigh, groups: "government"}}},
		{"label boundary: nottiktok.com is not TikTok",
			Input{Src: gov, Dst: usAddr, Name: "nottiktok.com", Place: inGB}, nil},
		{"TikTok by ASN without a name",
			Input{Src: gov, Dst: usAddr, Place: geo.Placement{Country: "GB", ASN: 138699}},
			[]want{{rule: "gov-sensitive-app", service: "tiktok", sev: SeverityHigh, groups: "government"}}},
		{"IPv6 gov source, IPv4-mapped destination to TikTok AS",
			Input{Src: netip.MustParseAddr("fd00:20::1"), Dst: netip.MustParseAddr("::ffff:93.184.216.34"), Place: tiktokAS},
			[]want{{rule: "gov-sensitive-app", service: "tiktok", sev: SeverityHigh, groups: "government"},
				{rule: "gov-outside-approved", sev: SeverityMedium, groups: "government"}}},
		{"internal destination is never egress",
			Input{Src: gov, Dst: netip.MustParseAddr("192.168.1.1"), Name: "www.tiktok.com", Place: inCN}, nil},
		{"link-local destination is never egress",
			Input{Src: gov, Dst: netip.MustParseAddr("fe80::1"), Place: inCN}, nil},
		{"multicast destination is never egress",
			Input{Src: gov, Dst: netip.MustParseAddr("239.255.255.250"), Place: inCN}, nil},
		{"except by domain",
			Input{Src: gov, Dst: usAddr, Name: "download.windowsupdate.com", Place: inUS}, nil},
		{"except lists do not match inside longer names",
			Input{Src: gov, Dst: usAddr, Name: "windowsupdate.com.evil.example", Place: inUS},
			[]want{{rule: "gov-outside-approved", sev: SeverityMedium, groups: "government"}}},
		{"except by ASN",
			Input{Src: gov, Dst: usAddr, Place: geo.Placement{Country: "US", ASN: 64501}}, nil},
		{"except by CIDR",
			Input{Src: gov, Dst: netip.MustParseAddr("203.0.113.9"), Place: inUS}, nil},
		{"indeterminate: warn downgrades",
			Input{Src: gov, Dst: usAddr, Place: anycast},
			[]want{{rule: "gov-outside-approved", sev: SeverityLow, ind: true, groups: "government"}}},
		{"no country counts as indeterminate",
			Input{Src: gov, Dst: usAddr, Place: geo.Placement{ASN: 1}},
			[]want{{rule: "gov-outside-approved", sev: SeverityLow, ind: true, groups: "government"}}},
		{"strict: corp-saas by domain outside UK",
			Input{Src: strict, Dst: usAddr, Name: "app.example-saas.com", Place: inFR},
			[]want{{rule: "strict-saas", service: "corp-saas", sev: SeverityCritical, groups: "strict"},
				{rule: "strict-any", sev: SeverityLow, groups: "strict"}}},
		{"strict: corp-saas by CIDR in UK",
			Input{Src: strict, Dst: netip.MustParseAddr("198.51.100.7"), Place: inGB}, nil},
		{"strict: corp-saas by ASN, indeterminate alert keeps severity; ignore drops",
			Input{Src: strict, Dst: usAddr, Place: geo.Placement{ASN: 64500, Indeterminate: true}},
			[]want{{rule: "strict-saas", service: "corp-saas", sev: SeverityCritical, ind: true, groups: "strict"}}},
		{"DNS query for TikTok name: DNS-only warning, any rules skip",
			Input{Kind: KindDNSQuery, Src: gov, Name: "www.tiktok.com", NameSource: flow.NameDNS},
			[]want{{rule: "gov-sensitive-app", service: "tiktok", sev: SeverityMedium, dnsOnly: true, groups: "government"}}},
		{"DNS query for an ordinary name",
			Input{Kind: KindDNSQuery, Src: gov, Name: "www.example.com"}, nil},
		{"flow without destination address is ignored",
			Input{Kind: KindFlowNamed, Src: gov, Name: "www.tiktok.com"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Time, in.Transport, in.DstPort = t0, flow.TCP, 443
			got := p.Evaluate(&in, nil)
			if len(got) != len(tt.want) {
				var ids []string
				for _, m := range got {
					ids = append(ids, m.Rule.ID)
				}
				t.Fatalf("got %d matches %v, want %d", len(got), ids, len(tt.want))
			}
			for i, w := range tt.want {
				m := got[i]
				if m.Rule.ID != w.rule || m.Service != w.service || m.Severity != w.sev ||
					m.Indeterminate != w.ind || m.DNSOnly != w.dnsOnly || strings.Join(m.Groups, ",") != w.groups {
					t.Errorf("match %d = {%s %q %v ind=%v dns=%v %v}, want %+v", i, m.Rule.ID, m.Service,
						m.Severity, m.Indeterminate, m.DNSOnly, m.Groups, w)
				}
				if msg := m.Message(&in); !strings.HasSuffix(msg, m.Rule.Name+".") || !strings.Contains(msg, in.Src.String()) {
					t.Errorf("Message = %q", msg)
				}
			}
		})
	}
}

func TestMessage(t *testing.T) {
	p := mustParse(t, evalPolicy)
	in := Input{Src: gov, Dst: usAddr, Name: "vcs-va.tiktokv.com", Place: inCN}
	ms := p.Evaluate(&in, nil)
	if len(ms) != 2 {
		t.Fatalf("got %d matches", len(ms))
	}
	for i, want := range []string{
		"Device 10.20.1.5 (government) contacted tiktok at vcs-va.tiktokv.com (93.184.216.34), placed in CN: Government device contacted a data-residency-sensitive service.",
		"Device 10.20.1.5 (government) contacted tiktok at vcs-va.tiktokv.com (93.184.216.34), placed in CN, outside approved: Government traffic left approved jurisdictions.",
	} {
		if got := ms[i].Message(&in); got != want {
			t.Errorf("Message %d =\n%q\nwant\n%q", i, got, want)
		}
	}
	in = Input{Src: gov, Dst: usAddr, Place: anycast}
	ms = p.Evaluate(&in, nil)
	want := "Device 10.20.1.5 (government) contacted 93.184.216.34, whose location is indeterminate (anycast), so it may be outside approved: Government traffic left approved jurisdictions."
	if got := ms[0].Message(&in); got != want {
		t.Errorf("Message =\n%q\nwant\n%q", got, want)
	}
}

func TestGroupsAndService(t *testing.T) {
	p := mustParse(t, evalPolicy)
	got := p.Groups(gov, &flow.Device{MAC: [6]byte{0xac, 0xde, 0x48, 0, 0x11, 0x22}, HasMAC: true, VLAN: [2]uint16{120}, NVLAN: 1}, nil)
	if strings.Join(got, ",") != "government,phones" {
		t.Errorf("Groups = %v", got)
	}
	for _, tt := range []struct {
		name string
		dst  netip.Addr
		asn  uint32
		want string
	}{
		{"tiktok.com", noAddr, 0, "tiktok"},
		{"TIKTOK.COM.", noAddr, 0, "tiktok"},
		{"a.b.c.tiktokcdn.com", noAddr, 0, "tiktok"},
		{"tiktokcdn.com.c.bytefcdn-oversea.com", noAddr, 0, "tiktok"}, // CDN edge name
		{"v16.tiktokcdn.com.edgesuite.net", noAddr, 0, "tiktok"},
		{"xtiktokcdn.com.edgesuite.net", noAddr, 0, ""},
		{"tiktokcdn.community.example", noAddr, 0, ""},
		{"windowsupdate.com.evil.example", noAddr, 0, ""},
		{"com", noAddr, 0, ""},
		{"", noAddr, 0, ""},
		{"..", noAddr, 0, ""},
		{"capcut.com", noAddr, 0, "bytedance"},
		{"dns.google", noAddr, 0, "encrypted-dns"},
		{"", netip.MustParseAddr("1.1.1.1"), 0, "encrypted-dns"},
		{"", netip.MustParseAddr("2606:4700:4700::1111"), 0, "encrypted-dns"},
		{"", netip.MustParseAddr("45.90.28.77"), 0, "encrypted-dns"},
		{"", noAddr, 137718, "bytedance"},
		{"", noAddr, 396986, "tiktok"},
		{"", netip.MustParseAddr("198.51.100.200"), 0, "corp-saas"},
		{"x.example-saas.com", noAddr, 0, "corp-saas"},
	} {
		if got := p.Service(tt.name, tt.dst, tt.asn); got != tt.want {
			t.Errorf("Service(%q, %v, %d) = %q, want %q", tt.name, tt.dst, tt.asn, got, tt.want)
		}
	}
}

func TestIDNA(t *testing.T) {
	p := mustParse(t, `
version: 1
groups: {g: {cidrs: [10.0.0.0/8]}}
services:
  shop: {domains: [bücher.example, "ÉCOLE.example"]}
  exact: {hosts: [login.example.org]}
rules:
  - {id: r, name: R, from: [g], to: [shop, exact], severity: low}
`)
	for _, tt := range []struct{ name, want string }{
		{"xn--bcher-kva.example", "shop"},
		{"www.XN--BCHER-KVA.example", "shop"},
		{"www.bücher.example", "shop"}, // Unicode on the wire (HTTP Host) is converted too
		{"xn--cole-9oa.example", "shop"},
		{"login.example.org", "exact"},
		{"www.login.example.org", ""},
		{"example.org", ""},
	} {
		if got := p.Service(tt.name, noAddr, 0); got != tt.want {
			t.Errorf("Service(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestIsInternal(t *testing.T) {
	p := Default()
	for _, tt := range []struct {
		a    string
		want bool
	}{
		{"10.1.2.3", true}, {"172.31.255.255", true}, {"172.32.0.1", false}, {"192.168.0.1", true},
		{"fd12::1", true}, {"::ffff:10.0.0.1", true}, {"127.0.0.1", true}, {"169.254.1.1", true},
		{"224.0.0.251", true}, {"255.255.255.255", true}, {"0.0.0.0", true}, {"8.8.8.8", false},
		{"2001:db8::1", false},
	} {
		if got := p.IsInternal(netip.MustParseAddr(tt.a)); got != tt.want {
			t.Errorf("IsInternal(%s) = %v, want %v", tt.a, got, tt.want)
		}
	}
}

func TestEvaluateAllocs(t *testing.T) {
	p := Default()
	miss := Input{Kind: KindFlowNamed, Src: netip.MustParseAddr("192.168.1.10"), Dst: usAddr,
		Name: "WWW.Example.co.uk", Place: inGB, Device: flow.Device{VLAN: [2]uint16{10}, NVLAN: 1}}
	notMember := Input{Src: netip.MustParseAddr("8.8.4.4"), Dst: usAddr, Name: "www.tiktok.com", Place: inCN}
	buf := make([]Match, 0, 4)
	for name, in := range map[string]*Input{"no rule fires": &miss, "source in no group": &notMember} {
		if n := testing.AllocsPerRun(200, func() { buf = p.Evaluate(in, buf[:0]) }); n != 0 {
			t.Errorf("Evaluate(%s) = %v allocs, want 0", name, n)
		}
		if len(buf) != 0 {
			t.Errorf("Evaluate(%s) fired %d", name, len(buf))
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p := Default()
	for _, bc := range []struct {
		name string
		in   Input
	}{
		{"miss", Input{Kind: KindFlowNamed, Src: netip.MustParseAddr("192.168.1.10"), Dst: usAddr, Name: "www.example.co.uk", Place: inGB}},
		{"fire", Input{Kind: KindFlowNamed, Src: netip.MustParseAddr("192.168.1.10"), Dst: usAddr, Name: "vcs-va.tiktokv.com", Place: inUS}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]Match, 0, 4)
			for b.Loop() {
				buf = p.Evaluate(&bc.in, buf[:0])
			}
		})
	}
}

func BenchmarkService(b *testing.B) {
	p := Default()
	b.ReportAllocs()
	for b.Loop() {
		p.Service("p16-sign-va.tiktokcdn.com", usAddr, 15133)
	}
}

func BenchmarkEgress(b *testing.B) {
	p := Default()
	in := Input{Src: netip.MustParseAddr("192.168.1.10"), Dst: usAddr, Name: "p16-sign-va.tiktokcdn.com", Place: inUS}
	b.ReportAllocs()
	for b.Loop() {
		p.Egress(&in)
	}
}
