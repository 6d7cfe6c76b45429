package rules

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/egresswatch/egresswatch/flow"
)

// TestEgressMemo: the memo answers as Policy.Egress does, asked again
// (from its tables) and after the policy is replaced; it allocates
// nothing once it has seen a destination and a set of groups.
func TestEgressMemo(t *testing.T) {
	inputs := []Input{
		{Src: gov, Dst: usAddr, Name: "www.tiktok.com", Place: inCN},
		{Src: gov, Dst: usAddr, Name: "WWW.TikTok.com.", Place: inCN},
		{Src: gov, Dst: usAddr, Place: tiktokAS},
		{Src: strict, Dst: usAddr, Name: "example.com", Place: inUS},
		{Src: other, Dst: usAddr, Name: "vcs-va.tiktokv.com", Place: inUS},
		{Src: other, Device: flow.Device{VLAN: [2]uint16{300, 120}, NVLAN: 2}, Dst: usAddr, Place: inCN},
		{Src: gov, Dst: netip.MustParseAddr("10.1.2.3"), Name: "intranet.example"},
		{Src: gov, Dst: netip.MustParseAddr("1.1.1.1"), Name: "cloudflare-dns.com"},
		{Src: gov, Dst: netip.MustParseAddr("1.1.1.1")},
	}
	var m EgressMemo
	for _, p := range []*Policy{mustParse(t, evalPolicy), Default(), mustParse(t, evalPolicy)} {
		for round := range 2 {
			for i := range inputs {
				in := &inputs[i]
				want := p.Egress(in)
				if got := m.Egress(p, in); !reflect.DeepEqual(got, want) {
					t.Errorf("round %d, %+v: memo %+v, Egress %+v", round, in, got, want)
				}
			}
		}
		for i := range inputs {
			if n := testing.AllocsPerRun(50, func() { m.Egress(p, &inputs[i]) }); n != 0 {
				t.Errorf("%+v: %v allocs a call once seen", inputs[i], n)
			}
		}
	}
}

func BenchmarkEgressMemo(b *testing.B) {
	p := Default()
	in := Input{Src: netip.MustParseAddr("192.168.1.10"), Dst: usAddr, Name: "p16-sign-va.tiktokcdn.com", Place: inUS}
	var m EgressMemo
	b.ReportAllocs()
	for b.Loop() {
		m.Egress(p, &in)
	}
}
