package main

import (
	"fmt"
	"net/netip"

	"github.com/miekg/dns"
)

// Floods: the adversarial workloads of the memory bounds. Each writes n packets, one
// microsecond apart, so nothing expires by time: only the tables' caps keep memory bounded.

// floodEnds returns the client side of the i-th distinct flow: 4096 clients times 60000
// source ports, so up to 245 M flows are distinct.
func (w *world) floodEnds(i int64) ends {
	c := i % 4096
	e := ends{
		srcMAC: [6]byte{0x02, 0x42, 0xac, 0x11, byte(c >> 8), byte(c)},
		dstMAC: w.gwMAC,
		src:    netip.AddrFrom4([4]byte{10, 64 + byte(c>>12), byte(c >> 4), byte(c&15)<<4 | 1}),
		sport:  uint16(1024 + (i/4096)%60000),
		dport:  443,
	}
	if c&1 == 1 {
		e.vlan = 100
	}
	a := [4]byte{byte(1 + w.rng.IntN(222)), byte(w.rng.Uint32()), byte(w.rng.Uint32()), byte(1 + w.rng.IntN(254))}
	if a[0] == 10 || a[0] == 127 || a[0] == 172 || a[0] == 192 || a[0] == 100 || a[0] == 169 {
		a[0] = 45
	}
	e.dst = netip.AddrFrom4(a)
	return e
}

func reverse(e ends) ends {
	return ends{srcMAC: e.dstMAC, dstMAC: e.srcMAC, vlan: e.vlan, src: e.dst, dst: e.src, sport: e.dport, dport: e.sport}
}

// floodFlows writes n SYNs, each opening a new flow.
func (w *world) floodFlows(pw *pcapWriter, n, t0 int64) error {
	for i := int64(0); i < n; i++ {
		e := w.floodEnds(i)
		if err := pw.write(t0+i, w.fb.tcp(&e, w.rng.Uint32(), 0, tcpSYN, 0, nil)); err != nil {
			return err
		}
	}
	return nil
}

// floodDNS writes n DNS answers, each for a new random name with one A record: they fill a
// passive DNS cache.
func (w *world) floodDNS(pw *pcapWriter, n, t0 int64) error {
	label := make([]byte, 12)
	for i := int64(0); i < n; i++ {
		for j := range label {
			label[j] = "abcdefghijklmnopqrstuvwxyz0123456789"[w.rng.IntN(36)]
		}
		qn := fmt.Sprintf("%s.%s.flood.example.com.", label, syllables[w.rng.IntN(len(syllables))])
		m := new(dns.Msg)
		m.Id = uint16(w.rng.Uint32())
		m.Response, m.RecursionDesired, m.RecursionAvailable = true, true, true
		m.Question = []dns.Question{{Name: qn, Qtype: dns.TypeA, Qclass: dns.ClassINET}}
		ip := [4]byte{byte(1 + w.rng.IntN(222)), byte(w.rng.Uint32()), byte(w.rng.Uint32()), byte(1 + w.rng.IntN(254))}
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: qn, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: ip[:]}}
		b, err := m.Pack()
		if err != nil {
			return fmt.Errorf("flood dns: %w", err)
		}
		e := w.floodEnds(i)
		e.dst, e.dport = w.res4[0], 53
		r := reverse(e)
		if err := pw.write(t0+i, w.fb.udp(&r, b)); err != nil {
			return err
		}
	}
	return nil
}

// floodHalfOpen writes flows of four packets each: the TCP handshake and the first segment of
// a ClientHello that never completes.
func (w *world) floodHalfOpen(pw *pcapWriter, n, t0 int64) error {
	tmpl := w.tcpHellos[0].msg
	var msg []byte
	for i := int64(0); i < n; {
		e := w.floodEnds(i / 4)
		r := reverse(e)
		cs, ss := w.rng.Uint32(), w.rng.Uint32()
		var err error
		if msg, err = helloWith(msg, tmpl, w.names[w.rng.IntN(len(w.names))].fqdn, w.randBytes); err != nil {
			return err
		}
		rec := append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
		cut := 200 + w.rng.IntN(len(rec)-400)
		frames := [][]byte{
			w.fb.tcp(&e, cs, 0, tcpSYN, 0, nil),
			w.fb.tcp(&r, ss, cs+1, tcpSYN|tcpACK, 0, nil),
			w.fb.tcp(&e, cs+1, ss+1, tcpACK, 0, nil),
			w.fb.tcp(&e, cs+1, ss+1, tcpACK, cut, func(b []byte) { copy(b, rec) }),
		}
		for _, f := range frames {
			if i == n {
				break
			}
			if err := pw.write(t0+i, f); err != nil {
				return err
			}
			i++
		}
	}
	return nil
}
