package classify

import (
	"net/netip"
	"testing"

	"github.com/egresswatch/egresswatch/classify/tlshello"
	"github.com/egresswatch/egresswatch/flow"
)

func TestEncryptedDNS(t *testing.T) {
	obs := func(app App, proto flow.Proto, dst string, alpn ...string) *Observation {
		p := &Packet{Key: flow.Key{Proto: proto, Src: netip.MustParseAddrPort("192.0.2.10:50000"), Dst: netip.MustParseAddrPort(dst)}}
		return &Observation{App: app, Packet: p, Hello: &tlshello.ClientHello{ALPN: alpn}}
	}
	tests := []struct {
		name string
		o    *Observation
		want BlindSpot
	}{
		{"TLS to 853", obs(AppTLS, flow.TCP, "8.8.8.8:853"), BlindDoT},
		{"TLS ALPN dot elsewhere", obs(AppTLS, flow.TCP, "203.0.113.1:8853", "dot"), BlindDoT},
		{"TLS to 443", obs(AppTLS, flow.TCP, "1.1.1.1:443", "h2"), BlindNone},
		{"TLS ALPN doq is not DoT", obs(AppTLS, flow.TCP, "203.0.113.1:443", "doq"), BlindNone},
		{"QUIC to 853", obs(AppQUIC, flow.UDP, "94.140.14.14:853"), BlindDoQ},
		{"QUIC ALPN doq", obs(AppQUIC, flow.UDP, "203.0.113.1:784", "doq"), BlindDoQ},
		{"QUIC draft ALPN", obs(AppQUIC, flow.UDP, "203.0.113.1:784", "doq-i02"), BlindDoQ},
		{"QUIC h3", obs(AppQUIC, flow.UDP, "203.0.113.1:443", "h3"), BlindNone},
		{"QUIC ALPN doqx", obs(AppQUIC, flow.UDP, "203.0.113.1:443", "doqx"), BlindNone},
		{"DNS on 853 without a hello", &Observation{App: AppDNS, Packet: &Packet{}}, BlindNone},
	}
	for _, tc := range tests {
		if got := tc.o.EncryptedDNS(); got != tc.want {
			t.Errorf("%s: EncryptedDNS = %q; want %q", tc.name, got, tc.want)
		}
	}
	for b, want := range map[BlindSpot]string{BlindNone: "", BlindDoT: "dot", BlindDoQ: "doq", BlindDoH: "doh", 9: ""} {
		if b.String() != want {
			t.Errorf("BlindSpot(%d).String() = %q; want %q", b, b.String(), want)
		}
	}
}

func TestNameHiding(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Observation
		want NameHiding
	}{
		{"dns", Observation{App: AppDNS}, HidingNone},
		{"plain hello", Observation{App: AppTLS, Hello: &tlshello.ClientHello{ServerName: "a.example"}}, HidingNone},
		{"outer ech", Observation{App: AppTLS, Hello: &tlshello.ClientHello{ECH: true}}, HidingECH},
		{"inner ech", Observation{App: AppTLS, Hello: &tlshello.ClientHello{ECH: true, ECHInner: true}}, HidingNone},
		{"esni", Observation{App: AppTLS, Hello: &tlshello.ClientHello{ESNI: true}}, HidingESNI},
	} {
		if got := tt.o.NameHiding(); got != tt.want {
			t.Errorf("%s: NameHiding() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
