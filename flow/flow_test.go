package flow

import (
	"net/netip"
	"testing"
)

// Reference values from the Community ID spec's baseline
// (corelight/community-id-spec, baseline/baseline_deflt.json), seed 0.
func TestCommunityID(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, tt := range []struct {
		name string
		k    Key
		want string
	}{
		{"tcp4", Key{TCP, ap("128.232.110.120:34855"), ap("66.35.250.204:80")}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"tcp4-reversed", Key{TCP, ap("66.35.250.204:80"), ap("128.232.110.120:34855")}, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"udp4", Key{UDP, ap("192.168.1.52:54585"), ap("8.8.8.8:53")}, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{"tcp6", Key{TCP, ap("[fe80::219:e3ff:fee7:5d23]:5353"), ap("[ff02::fb]:5353")}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := CommunityID(tt.k, 0)
			if tt.want != "" && got != tt.want {
				t.Errorf("CommunityID(%v) = %q; want %q", tt.k, got, tt.want)
			}
			if rev := CommunityID(tt.k.Reverse(), 0); rev != got {
				t.Errorf("CommunityID not symmetric: %q vs %q", got, rev)
			}
		})
	}
}

func TestHashSymmetric(t *testing.T) {
	k := Key{UDP, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("8.8.8.8:53")}
	if k.Hash() != k.Reverse().Hash() {
		t.Fatal("Hash is not symmetric")
	}
	k2 := k
	k2.Src = netip.MustParseAddrPort("10.0.0.2:5000")
	if k.Hash() == k2.Hash() {
		t.Fatal("different flows hash alike")
	}
}

func TestHashAllocs(t *testing.T) {
	k := Key{UDP, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("8.8.8.8:53")}
	if n := testing.AllocsPerRun(100, func() { _ = k.Hash() }); n != 0 {
		t.Errorf("Hash allocates %v; want 0", n)
	}
}
