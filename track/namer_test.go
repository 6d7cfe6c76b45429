package track

import (
	"net/netip"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/flow"
)

// TestNamerHiddenNames: a flow whose hello hides its name (real ECH, by
// a known public name; ESNI, always) is named from passive DNS and marked
// NameHidden; a GREASE ECH hello keeps its server_name; DoH is told by
// the resolver test.
func TestNamerHiddenNames(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dst := netip.MustParseAddrPort("203.0.113.5:443")
	names := NewNames(NamesOptions{})
	names.Add(dst.Addr(), "secret.example.org", 300, t0)
	doh := func(name string, a netip.Addr, asn uint32) bool { return name == "dns.example" }
	n := NewNamer(names, doh)
	key := flow.Key{Proto: flow.TCP, Src: netip.MustParseAddrPort("10.0.0.1:40000"), Dst: dst}
	for _, tc := range []struct {
		name        string
		meta        FlowMeta
		wantName    string
		wantSrc     flow.NameSource
		wantHidden  bool
		wantDoHNote bool
	}{
		{"real ECH", FlowMeta{ECH: true, Name: "cloudflare-ech.com", NameSource: flow.NameSNI}, "secret.example.org", flow.NameDNS, true, false},
		{"GREASE ECH", FlowMeta{ECH: true, Name: "www.example.com", NameSource: flow.NameSNI}, "www.example.com", flow.NameSNI, false, false},
		{"ESNI, no server_name", FlowMeta{ESNI: true}, "secret.example.org", flow.NameDNS, true, false},
		{"DoH", FlowMeta{Name: "dns.example", NameSource: flow.NameSNI}, "dns.example", flow.NameSNI, false, true},
		{"plain", FlowMeta{}, "secret.example.org", flow.NameDNS, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.meta
			m.Key, m.First = key, t0.Add(time.Second)
			var st Naming
			n.Start(&st, &m)
			n.Hello(&st, &m, 0)
			if !n.Name(&st, &m) {
				t.Fatal("not named")
			}
			if m.Name != tc.wantName || m.NameSource != tc.wantSrc || m.NameHidden != tc.wantHidden {
				t.Errorf("name %q (%v), hidden %v; want %q (%v), hidden %v", m.Name, m.NameSource, m.NameHidden, tc.wantName, tc.wantSrc, tc.wantHidden)
			}
			if got := m.BlindSpot.String() == "doh"; got != tc.wantDoHNote {
				t.Errorf("blind spot %q", m.BlindSpot)
			}
		})
	}
}
