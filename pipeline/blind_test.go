package pipeline

import (
	"fmt"
	"testing"
)

// MACs of testdata/gen: the client, and the switch that sends the tunnels.
const (
	clientMAC = "02-00-5E-10-00-01"
	switchMAC = "02-00-5E-10-00-A1"
)

// blindFacts are the facts of the captures that testdata/gen/blind.go
// makes: ECH, encrypted DNS and tunnels.
func blindFacts() []replayFacts {
	facts := []replayFacts{
		{"ech.pcap", map[string]int{"dns": 6, "tls": 2, "flow": 5}, func(t *testing.T, evs []event, s Summary) {
			https := only(evs, "dns")[1]
			expect(t, "HTTPS answer ech_config", field(https, "egresswatch.ech_config"), any(true))
			tl := only(evs, "tls")
			// Real ECH: the outer name is the public name of the config
			// the HTTPS answer carried; the flow is named from passive DNS.
			expect(t, "ECH outer server_name", tl[0].str("tls.client.server_name"), "public.example.net")
			expect(t, "ECH event ech", field(tl[0], "egresswatch.ech"), any(true))
			expect(t, "ECH event name_hidden", field(tl[0], "egresswatch.name_hidden"), any(true))
			fl := flowTo(t, evs, "198.51.100.60", 443)
			expect(t, "ECH flow domain", fl.str("destination.domain"), "secret.example.org")
			expect(t, "ECH flow name_source", fl.str("egresswatch.name_source"), "dns")
			expect(t, "ECH flow ech", field(fl, "egresswatch.ech"), any(true))
			expect(t, "ECH flow name_hidden", field(fl, "egresswatch.name_hidden"), any(true))
			// GREASE ECH: the extension is there, the server_name is the
			// real name (no ECH config names it): nothing is hidden.
			expect(t, "GREASE server_name", tl[1].str("tls.client.server_name"), "grease.example.org")
			expect(t, "GREASE event ech", field(tl[1], "egresswatch.ech"), any(true))
			expect(t, "GREASE event name_hidden", field(tl[1], "egresswatch.name_hidden"), nil)
			gf := flowTo(t, evs, "198.51.100.61", 443)
			expect(t, "GREASE flow domain", gf.str("destination.domain"), "grease.example.org")
			expect(t, "GREASE flow name_source", gf.str("egresswatch.name_source"), "sni")
			expect(t, "GREASE flow name_hidden", field(gf, "egresswatch.name_hidden"), nil)
			// Flows are counted when first named: passive DNS named the
			// GREASE flow before its SNI renamed it.
			expect(t, "NamedBy[dns]", s.NamedBy["dns"], uint64(2))
			expect(t, "NamedBy[sni]", s.NamedBy["sni"], uint64(0))
		}},
		{"encrypted-dns.pcap", map[string]int{"tls": 2, "quic": 1, "flow": 3}, func(t *testing.T, evs []event, s Summary) {
			for _, c := range []struct {
				ip, name, blind, dataset string
				port                     float64
			}{
				{"8.8.8.8", "dns.google", "dot", "tls", 853},
				{"1.1.1.1", "cloudflare-dns.com", "doh", "tls", 443},
				{"94.140.14.14", "dns.adguard-dns.com", "doq", "quic", 853},
			} {
				fl := flowTo(t, evs, c.ip, c.port)
				expect(t, c.ip+" flow blind_spot", fl.str("egresswatch.blind_spot"), c.blind)
				expect(t, c.ip+" flow domain", fl.str("destination.domain"), c.name)
				var hello event
				for _, e := range only(evs, c.dataset) {
					if e.str("destination.ip") == c.ip {
						hello = e
					}
				}
				if hello == nil {
					t.Errorf("no %s event to %s", c.dataset, c.ip)
					continue
				}
				expect(t, c.ip+" hello blind_spot", hello.str("egresswatch.blind_spot"), c.blind)
				expect(t, c.ip+" server_name", hello.str("tls.client.server_name"), c.name)
			}
			q := only(evs, "quic")[0]
			expectStrs(t, "DoQ alpn", q.strs("tls.client.alpn"), []string{"doq"})
			expect(t, "QUICHellos", s.Inspect.QUICHellos, uint64(1))
		}},
	}
	for _, tc := range []struct {
		file, kind string
		id         float64
		mac        string // the device's MAC when the tunnel carries Ethernet, else the switch's
	}{
		{"tunnel-gre.pcap", "gre", 1001, switchMAC},
		{"tunnel-gre-teb.pcap", "gre", 1002, clientMAC},
		{"tunnel-erspan2.pcap", "erspan", 42, clientMAC},
		// The ERSPAN III header also carries VLAN 20: not the session.
		{"tunnel-erspan3.pcap", "erspan", 513, clientMAC},
		{"tunnel-vxlan.pcap", "vxlan", 5001, clientMAC},
		{"tunnel-geneve.pcap", "geneve", 6001, clientMAC},
	} {
		facts = append(facts, replayFacts{tc.file, map[string]int{"dns": 2, "tls": 1, "flow": 2}, func(t *testing.T, evs []event, s Summary) {
			for i, e := range evs {
				what := fmt.Sprintf("event %d (%s) ", i, e.str("event.dataset"))
				expect(t, what+"tunnel.type", e.str("egresswatch.tunnel.type"), tc.kind)
				expect(t, what+"tunnel.source.ip", e.str("egresswatch.tunnel.source.ip"), "192.0.2.201")
				expect(t, what+"tunnel.destination.ip", e.str("egresswatch.tunnel.destination.ip"), "192.0.2.202")
				expect(t, what+"tunnel.id", e.num("egresswatch.tunnel.id"), tc.id)
				expect(t, what+"source.ip (inner)", e.str("source.ip"), "192.0.2.10")
				expect(t, what+"source.mac", e.str("source.mac"), tc.mac)
			}
			// The same exchange as qinq.pcap, found through the tunnel.
			d := only(evs, "dns")
			expect(t, "dns question", d[0].str("dns.question.name"), "qinq.example.org")
			expectStrs(t, "resolved_ip", d[1].strs("dns.resolved_ip"), []string{"198.51.100.30"})
			tl := only(evs, "tls")[0]
			expect(t, "server_name", tl.str("tls.client.server_name"), "qinq.example.org")
			expect(t, "event.sequence (second segment)", tl.num("event.sequence"), 7)
			// The inner flow's Community ID is qinq.pcap's: the tunnel is not part of it.
			expect(t, "tls community_id", tl.str("network.community_id"), "1:ZTADczakDRpgDBS/Ypd6ZXalSk8=")
			fl := flowTo(t, evs, "198.51.100.30", 443)
			expect(t, "flow domain", fl.str("destination.domain"), "qinq.example.org")
			expect(t, "flow name_source", fl.str("egresswatch.name_source"), "sni")
			expect(t, "flow packets", fl.num("network.packets"), 9)
			expect(t, "Tunnelled", s.Decode.Tunnelled, uint64(11))
		}})
	}
	return facts
}

// TestBlindSpotsCorpus checks the blind-spot and ECH flags on real
// captures of the shared corpus: DoQ on UDP 853 (zeek-quicdoq.pcap, which
// tshark only decodes as QUIC when told to) and on the draft port 784 by
// ALPN (ndpi-doq.pcapng), DoT from Android's Private DNS
// (ndpi-googledns_android10.pcap), and a Chrome ClientHello with an ECH
// extension beside its real server_name (ndpi-tls_ech.pcapng): no ECH
// config names it, so nothing is hidden.
func TestBlindSpotsCorpus(t *testing.T) {
	corpusFiles(t) // skips without the shared corpus
	type want struct {
		dataset, blind string
		n              int
	}
	for _, tc := range []struct {
		file string
		want []want
	}{
		{"zeek-quicdoq.pcap", []want{{"quic", "doq", 1}, {"flow", "doq", 1}}},
		{"ndpi-doq.pcapng", []want{{"quic", "doq", 1}, {"flow", "doq", 1}}},
		{"ndpi-googledns_android10.pcap", []want{{"tls", "dot", 5}}},
	} {
		evs := replayEvents(t, corpusDir+"/"+tc.file)
		for _, w := range tc.want {
			n := 0
			for _, e := range evs {
				if str(e, "event.dataset") == "egresswatch."+w.dataset && str(e, "egresswatch.blind_spot") == w.blind {
					n++
				}
			}
			if n != w.n {
				t.Errorf("%s: %d %s events with blind_spot %s; want %d", tc.file, n, w.dataset, w.blind, w.n)
			}
		}
	}
	evs := replayEvents(t, corpusDir+"/ndpi-tls_ech.pcapng")
	n := 0
	for _, e := range evs {
		if str(e, "event.dataset") != "egresswatch.tls" {
			continue
		}
		n++
		if field(e, "egresswatch.ech") != true || field(e, "egresswatch.name_hidden") != nil ||
			str(e, "destination.domain") != "performance.radar.cloudflare.com" {
			t.Errorf("ndpi-tls_ech.pcapng: ech %v, name_hidden %v, domain %q; want ech without name_hidden, the SNI as name",
				field(e, "egresswatch.ech"), field(e, "egresswatch.name_hidden"), str(e, "destination.domain"))
		}
	}
	if n != 1 {
		t.Errorf("ndpi-tls_ech.pcapng: %d TLS events; want 1", n)
	}
}
