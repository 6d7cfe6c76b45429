package main

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/egresswatch/egresswatch/classify/quic"
	"github.com/egresswatch/egresswatch/classify/tlshello"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestHelloWith(t *testing.T) {
	hellos, err := loadHellos()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	}
	for _, h := range hellos {
		orig, err := tlshello.Parse(h.msg)
		if err != nil {
			t.Fatalf("%s: template does not parse: %v", h.name, err)
		}
		if orig.ServerName != placeholderSNI {
			t.Fatalf("%s: template SNI %q", h.name, orig.ServerName)
		}
		for _, sni := range []string{"a.b", "www.example.com", "login.microsoftonline.com", "x" + string(bytes.Repeat([]byte(".abcdefghij"), 20))} {
			msg, err := helloWith(nil, h.msg, sni, fill)
			if err != nil {
				t.Fatalf("%s %s: %v", h.name, sni, err)
			}
			got, err := tlshello.Parse(msg)
			if err != nil {
				t.Fatalf("%s %s: rewritten hello does not parse: %v", h.name, sni, err)
			}
			if got.ServerName != sni || len(got.ALPN) != len(orig.ALPN) || len(got.Extensions) != len(orig.Extensions) ||
				len(got.KeyShares) != len(orig.KeyShares) || got.QUIC != h.quic {
				t.Errorf("%s %s: got SNI %q ALPN %v ext %d keys %v quic %v; template ALPN %v ext %d keys %v",
					h.name, sni, got.ServerName, got.ALPN, len(got.Extensions), got.KeyShares, got.QUIC, orig.ALPN, len(orig.Extensions), orig.KeyShares)
			}
			if bytes.Equal(msg[6:38], h.msg[6:38]) {
				t.Errorf("%s: client random not rewritten", h.name)
			}
		}
	}
}

// TestQUICInitialRoundTrip seals the client Initials of QUIC sessions and opens them with
// classify/quic: the ClientHello and its SNI must come back.
func TestQUICInitialRoundTrip(t *testing.T) {
	hellos, err := loadHellos()
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(7, hellos)
	var c quic.Conn
	twoInitials := 0
	for i := 0; i < 200; i++ {
		nm := &w.names[w.rng.IntN(len(w.names))]
		s := &session{c: &w.clients[0]}
		if err := w.quicScript(s, nm, 3); err != nil {
			t.Fatal(err)
		}
		c.Reset()
		var res quic.Result
		n := 0
		for _, o := range s.ops {
			if o.kind != opUDP || o.dir != 0 || !quic.LooksLikeInitial(s.dgrams[o.idx]) {
				continue
			}
			n++
			if len(s.dgrams[o.idx]) != 1252 {
				t.Fatalf("Initial datagram of %d bytes", len(s.dgrams[o.idx]))
			}
			if res, err = c.Feed(s.dgrams[o.idx]); err != nil {
				t.Fatalf("%s: Feed: %v", nm.fqdn, err)
			}
		}
		if n == 2 {
			twoInitials++
		}
		if !res.Complete || res.Version != quic.Version1 {
			t.Fatalf("%s: ClientHello not complete after %d Initials (%+v)", nm.fqdn, n, res)
		}
		h, err := tlshello.Parse(res.Hello)
		if err != nil || h.ServerName != nm.fqdn || !h.QUIC {
			t.Fatalf("%s: got %+v, %v", nm.fqdn, h, err)
		}
	}
	if twoInitials == 0 || twoInitials == 200 {
		t.Errorf("%d of 200 hellos over two Initials; want a mix", twoInitials)
	}
}

// TestMix checks a small mix: deterministic, every frame decodes, and the DNS, TLS and QUIC
// names in it are those of the world.
func TestMix(t *testing.T) {
	gen := func() []byte {
		var out, errb bytes.Buffer
		if err := run([]string{"-packets", "20000", "-o", "-"}, &out, &errb); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	a, b := gen(), gen()
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Fatal("two runs with the same flags differ")
	}
	r, err := pcapgo.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
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
	var decoded []gopacket.LayerType
	n, vlan, v6, dnsMsgs, initials := 0, 0, 0, 0, 0
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if err := p.DecodeLayers(data, &decoded); err != nil {
			t.Fatalf("packet %d: %v", n, err)
		}
		for _, l := range decoded {
			switch l {
			case layers.LayerTypeDot1Q:
				vlan++
			case layers.LayerTypeIPv6:
				v6++
			case layers.LayerTypeUDP:
				if udp.SrcPort == 53 || udp.DstPort == 53 {
					var m layers.DNS
					if err := m.DecodeFromBytes(udp.Payload, gopacket.NilDecodeFeedback); err != nil || len(m.Questions) != 1 {
						t.Fatalf("packet %d: DNS: %v", n, err)
					}
					dnsMsgs++
				}
				if udp.DstPort == 443 && quic.LooksLikeInitial(udp.Payload) {
					initials++
				}
			}
		}
	}
	if n != 20000 {
		t.Fatalf("%d packets, want 20000", n)
	}
	for _, c := range []struct {
		what   string
		got    int
		lo, hi float64
	}{{"VLAN", vlan, 0.4, 0.6}, {"IPv6", v6, 0.06, 0.15}, {"DNS", dnsMsgs, 0.03, 0.08}} {
		if f := float64(c.got) / float64(n); f < c.lo || f > c.hi {
			t.Errorf("%s share %.3f, want %.2f..%.2f", c.what, f, c.lo, c.hi)
		}
	}
	if initials == 0 {
		t.Error("no QUIC Initials")
	}
}
