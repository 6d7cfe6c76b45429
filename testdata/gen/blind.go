package main

// Captures of what egresswatch cannot read directly: ECH, encrypted DNS
// (DoT, DoH, DoQ), and a TLS+DNS exchange seen through the tunnels a
// mirror port delivers (GRE, GRE with transparent Ethernet bridging,
// ERSPAN II and III, VXLAN, Geneve).

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/egresswatch/egresswatch/internal/initialseal"
)

// Names of the ECH capture.
const (
	echPublicName = "public.example.net" // the client-facing name in the ECH config
	echSecretName = "secret.example.org" // the name the client means, hidden in the inner hello
	greaseName    = "grease.example.org" // a plain hello with a GREASE ECH extension
)

// blindHello is a ClientHello recorded into hellos/NAME.bin.
type blindHello struct {
	name   string
	record func() ([]byte, error)
}

func blindHellos() []blindHello {
	return []blindHello{
		{"ech-" + echSecretName, func() ([]byte, error) {
			list, err := echConfigList()
			if err != nil {
				return nil, err
			}
			return recordTLS(&tls.Config{ServerName: echSecretName, NextProtos: []string{"h2", "http/1.1"},
				MinVersion: tls.VersionTLS13, EncryptedClientHelloConfigList: list})
		}},
		{greaseName, func() ([]byte, error) {
			return recordTLS(&tls.Config{ServerName: greaseName, NextProtos: []string{"h2", "http/1.1"}})
		}},
		// DoT clients (Android's Private DNS, systemd-resolved) offer no ALPN.
		{"dns.google", func() ([]byte, error) { return recordTLS(&tls.Config{ServerName: "dns.google"}) }},
		{"cloudflare-dns.com", func() ([]byte, error) {
			return recordTLS(&tls.Config{ServerName: "cloudflare-dns.com", NextProtos: []string{"h2"}})
		}},
		{"quic-dns.adguard-dns.com", recordQUICHello},
	}
}

// recordTLS returns the TLS records of a crypto/tls client's ClientHello.
func recordTLS(cfg *tls.Config) ([]byte, error) {
	cfg.Time = func() time.Time { return base }
	return clientHelloRecords(cfg)
}

// recordQUICHello returns the ClientHello (a bare handshake message, as
// QUIC's CRYPTO frames carry it) of a crypto/tls QUIC client for DNS over
// QUIC. X25519 alone keeps it inside one Initial packet.
func recordQUICHello() ([]byte, error) {
	qc := tls.QUICClient(&tls.QUICConfig{TLSConfig: &tls.Config{
		ServerName: "dns.adguard-dns.com", NextProtos: []string{"doq"}, MinVersion: tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519}, Time: func() time.Time { return base }}})
	// Transport parameters: initial_source_connection_id (0x0f).
	qc.SetTransportParameters(append([]byte{0x0f, byte(len(doqSCID))}, doqSCID...))
	if err := qc.Start(context.Background()); err != nil {
		return nil, err
	}
	defer qc.Close()
	var hello []byte
	for {
		e := qc.NextEvent()
		if e.Kind == tls.QUICNoEvent {
			break
		}
		if e.Kind == tls.QUICWriteData && e.Level == tls.QUICEncryptionLevelInitial {
			hello = append(hello, e.Data...)
		}
	}
	if len(hello) < 4 || hello[0] != 1 {
		return nil, fmt.Errorf("QUIC client wrote %d bytes, not a ClientHello", len(hello))
	}
	return hello, nil
}

// echConfigList is the ECHConfigList (draft-ietf-tls-esni section 4) of
// the ECH capture: one X25519 / HKDF-SHA256 / AES-128-GCM config with
// public name echPublicName, from a fixed key so that the DNS answer and
// the recorded hello agree.
func echConfigList() ([]byte, error) {
	var seed [32]byte
	copy(seed[:], "egresswatch ECH fixture key.....")
	key, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		return nil, err
	}
	var c []byte
	c = append(c, 0x2a)                          // config_id
	c = binary.BigEndian.AppendUint16(c, 0x0020) // KEM DHKEM(X25519, HKDF-SHA256)
	pub := key.PublicKey().Bytes()
	c = binary.BigEndian.AppendUint16(c, uint16(len(pub)))
	c = append(c, pub...)
	c = append(c, 0, 4, 0, 1, 0, 1) // cipher_suites: HKDF-SHA256, AES-128-GCM
	c = append(c, 0)                // maximum_name_length
	c = append(c, byte(len(echPublicName)))
	c = append(c, echPublicName...)
	c = append(c, 0, 0) // no extensions
	cfg := binary.BigEndian.AppendUint16(nil, 0xfe0d)
	cfg = binary.BigEndian.AppendUint16(cfg, uint16(len(c)))
	cfg = append(cfg, c...)
	list := binary.BigEndian.AppendUint16(nil, uint16(len(cfg)))
	return append(list, cfg...), nil
}

// withGreaseECH appends a GREASE encrypted_client_hello extension to a
// single-record ClientHello, as Chrome sends one (draft-ietf-tls-esni
// section 6.2): an outer ECH with a random config_id, a 32-byte enc and a
// random payload, while server_name stays the real name. The bytes come
// from a seeded generator, so the capture is reproducible.
func withGreaseECH(rec []byte, seed uint64) ([]byte, error) {
	if len(rec) < 9 || int(binary.BigEndian.Uint16(rec[3:5])) != len(rec)-5 || rec[5] != 1 {
		return nil, errors.New("not a single-record ClientHello")
	}
	// Skip version, random, session id, cipher suites, compression methods.
	i := 9 + 2 + 32
	i += 1 + int(rec[i])
	i += 2 + int(binary.BigEndian.Uint16(rec[i:]))
	i += 1 + int(rec[i])
	if i+2 > len(rec) || i+2+int(binary.BigEndian.Uint16(rec[i:])) != len(rec) {
		return nil, errors.New("extensions do not end the ClientHello")
	}
	r := rand.NewChaCha8(seedBytes(seed))
	random := func(n int) []byte { b := make([]byte, n); _, _ = r.Read(b); return b }
	var body []byte
	body = append(body, 0, 0, 1, 0, 1) // outer; HKDF-SHA256, AES-128-GCM
	body = append(body, random(1)...)  // config_id
	body = append(body, 0, 32)
	body = append(body, random(32)...) // enc
	body = append(body, 0, 176)
	body = append(body, random(176)...) // payload
	ext := binary.BigEndian.AppendUint16(nil, 0xfe0d)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(body)))
	ext = append(ext, body...)
	out := append(bytes.Clone(rec), ext...)
	add := len(ext)
	binary.BigEndian.PutUint16(out[i:], binary.BigEndian.Uint16(out[i:])+uint16(add))
	hs := int(out[6])<<16 | int(out[7])<<8 | int(out[8]) + add
	out[6], out[7], out[8] = byte(hs>>16), byte(hs>>8), byte(hs)
	binary.BigEndian.PutUint16(out[3:], uint16(len(out)-5))
	return out, nil
}

// echCapture: the HTTPS and A answers for secret.example.org (the HTTPS
// one carries the ECH config, public name public.example.net), then a
// connection to the address whose ClientHello is ECH: the outer
// server_name is public.example.net, the real name is encrypted. Then a
// connection to grease.example.org whose hello has a GREASE ECH
// extension beside its real server_name.
func echCapture(h map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(8*time.Minute), time.Millisecond)
	list, err := echConfigList()
	if err != nil {
		return nil, err
	}
	var m must
	ech := base64.StdEncoding.EncodeToString(list)
	qH := m.b(query(0x8801, echSecretName, dns.TypeHTTPS))
	rH := m.b(answer(0x8801, echSecretName, dns.TypeHTTPS, echSecretName+`. 300 IN HTTPS 1 . alpn="h2" ech="`+ech+`"`))
	qA := m.b(query(0x8802, echSecretName, dns.TypeA))
	rA := m.b(answer(0x8802, echSecretName, dns.TypeA, echSecretName+". 300 IN A 198.51.100.60"))
	qG := m.b(query(0x8803, greaseName, dns.TypeA))
	rG := m.b(answer(0x8803, greaseName, dns.TypeA, greaseName+". 300 IN A 198.51.100.61"))
	grease := m.b(withGreaseECH(h[greaseName], 99))
	if m.err != nil {
		return nil, m.err
	}
	l := ethernet{}
	udp(c, l, 0, ap(client4, 50010), ap(resolver, 53), 1, true, qH)
	udp(c, l, 0, ap(resolver, 53), ap(client4, 50010), 2, false, rH)
	udp(c, l, 0, ap(client4, 50011), ap(resolver, 53), 3, true, qA)
	udp(c, l, 0, ap(resolver, 53), ap(client4, 50011), 4, false, rA)
	t := newTCP(c, l, ap(client4, 49160), ap(netip.MustParseAddr("198.51.100.60"), 443), 21000)
	t.open()
	t.send(true, "A", h["ech-"+echSecretName])
	t.send(false, "A", nil)
	t.close()
	udp(c, l, 0, ap(client4, 50012), ap(resolver, 53), 5, true, qG)
	udp(c, l, 0, ap(resolver, 53), ap(client4, 50012), 6, false, rG)
	t = newTCP(c, l, ap(client4, 49161), ap(netip.MustParseAddr("198.51.100.61"), 443), 22000)
	t.open()
	t.send(true, "A", grease)
	t.send(false, "A", nil)
	t.close()
	return c.pcap(layers.LinkTypeEthernet)
}

// Connection IDs of the DoQ Initial.
var (
	doqDCID = []byte{0xd0, 0x0d, 0xca, 0xfe, 0x85, 0x30, 0x00, 0x01}
	doqSCID = []byte{0x5c, 0x1d, 0x00, 0x00, 0x85, 0x30, 0x00, 0x02}
)

// encryptedDNS: DNS over TLS (TLS to 8.8.8.8:853, server_name dns.google,
// no ALPN), DNS over HTTPS (TLS to 1.1.1.1:443, cloudflare-dns.com, h2)
// and DNS over QUIC (a QUIC v1 Initial to 94.140.14.14:853, ALPN doq).
func encryptedDNS(h map[string][]byte) ([]byte, error) {
	c := newCap(base.Add(9*time.Minute), time.Millisecond)
	l := ethernet{}
	t := newTCP(c, l, ap(client4, 49170), ap(netip.MustParseAddr("8.8.8.8"), 853), 31000)
	t.open()
	t.send(true, "A", h["dns.google"])
	t.send(false, "A", nil)
	t.close()
	t = newTCP(c, l, ap(client4, 49171), ap(netip.MustParseAddr("1.1.1.1"), 443), 32000)
	t.open()
	t.send(true, "A", h["cloudflare-dns.com"])
	t.send(false, "A", nil)
	t.close()
	initial, err := sealInitial(doqDCID, doqSCID, h["quic-dns.adguard-dns.com"])
	if err != nil {
		return nil, err
	}
	udp(c, l, 0, ap(client4, 50853), ap(netip.MustParseAddr("94.140.14.14"), 853), 7, true, initial)
	return c.pcap(layers.LinkTypeEthernet)
}

// sealInitial builds a QUIC v1 client Initial (RFC 9000 section 17.2.2)
// carrying hello in one CRYPTO frame, padded to 1200 bytes, protected
// with the Initial keys of dcid (RFC 9001 section 5).
func sealInitial(dcid, scid, hello []byte) ([]byte, error) {
	// CRYPTO frame: type 6, offset 0, 2-byte varint length.
	frame := []byte{0x06, 0x00, 0x40 | byte(len(hello)>>8), byte(len(hello))}
	frame = append(frame, hello...)
	return initialseal.Seal(initialseal.Initial{Version: 1, Salt: initialseal.SaltV1(),
		DCID: dcid, SCID: scid, PNLen: 2, PN: 0, Frames: frame, Size: 1200})
}

// ---- tunnels ----

// Outer addresses of the tunnels: a switch mirroring traffic to a sensor.
var (
	tunnelSrc = netip.MustParseAddr("192.0.2.201")
	tunnelDst = netip.MustParseAddr("192.0.2.202")
)

// tunnel wraps the frames of an exchange in one encapsulation. The outer
// header is the same in both directions, as on a mirror session.
type tunnel struct {
	kind string
	id   uint32
}

var (
	tunnelGRE     = tunnel{"gre", 1001}     // GRE key 1001, inner IPv4
	tunnelGRETEB  = tunnel{"gre-teb", 1002} // GRE key 1002, transparent Ethernet bridging
	tunnelERSPAN2 = tunnel{"erspan2", 42}   // ERSPAN type II session 42
	tunnelERSPAN3 = tunnel{"erspan3", 513}  // ERSPAN type III session 513, VLAN 20 in its header
	tunnelVXLAN   = tunnel{"vxlan", 5001}   // VNI 5001
	tunnelGeneve  = tunnel{"geneve", 6001}  // VNI 6001
)

func (tn tunnel) wrap(ip []byte, v6, fromClient bool) ([]byte, error) {
	innerEth, err := ethernet{}.wrap(ip, v6, fromClient)
	if err != nil {
		return nil, err
	}
	gre := func(flags, proto uint16, opt ...uint32) []byte {
		b := binary.BigEndian.AppendUint16(nil, flags)
		b = binary.BigEndian.AppendUint16(b, proto)
		for _, o := range opt {
			b = binary.BigEndian.AppendUint32(b, o)
		}
		return b
	}
	const greKey, greSeq = 0x2000, 0x1000
	var ipProto layers.IPProtocol = layers.IPProtocolGRE
	var inner []byte
	var dport uint16
	switch tn.kind {
	case "gre":
		inner = append(gre(greKey, 0x0800, tn.id), ip...)
	case "gre-teb":
		inner = append(gre(greKey, 0x6558, tn.id), innerEth...)
	case "erspan2":
		// Ver 1, VLAN 0 | COS 0, En 0, T 0, session | reserved, index 0.
		h := gre(greSeq, 0x88be, 1)
		h = binary.BigEndian.AppendUint16(h, 1<<12)
		h = binary.BigEndian.AppendUint16(h, uint16(tn.id&0x3ff))
		h = binary.BigEndian.AppendUint32(h, 0)
		inner = append(h, innerEth...)
	case "erspan3":
		// Ver 2, VLAN 20 | COS, BSO, T, session | timestamp | SGT, P, FT, HwID, D, Gra, O=0.
		h := gre(greSeq, 0x22eb, 1)
		h = binary.BigEndian.AppendUint16(h, 2<<12|20)
		h = binary.BigEndian.AppendUint16(h, uint16(tn.id&0x3ff))
		h = binary.BigEndian.AppendUint32(h, 0x00c0ffee)
		h = binary.BigEndian.AppendUint32(h, 0)
		inner = append(h, innerEth...)
	case "vxlan":
		ipProto, dport = layers.IPProtocolUDP, 4789
		h := []byte{0x08, 0, 0, 0}
		h = binary.BigEndian.AppendUint32(h, tn.id<<8)
		inner = append(h, innerEth...)
	case "geneve":
		ipProto, dport = layers.IPProtocolUDP, 6081
		h := []byte{0, 0, 0x65, 0x58} // version 0, no options, protocol TEB
		h = binary.BigEndian.AppendUint32(h, tn.id<<8)
		inner = append(h, innerEth...)
	default:
		return nil, fmt.Errorf("unknown tunnel %q", tn.kind)
	}
	outer := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: ipProto, SrcIP: tunnelSrc.AsSlice(), DstIP: tunnelDst.AsSlice()}
	eth := &layers.Ethernet{SrcMAC: mac(0xa1), DstMAC: mac(0xa2), EthernetType: layers.EthernetTypeIPv4}
	if ipProto == layers.IPProtocolUDP {
		u := &layers.UDP{SrcPort: 49999, DstPort: layers.UDPPort(dport)}
		if err := u.SetNetworkLayerForChecksum(outer); err != nil {
			return nil, err
		}
		return serializeLayers(eth, outer, u, gopacket.Payload(inner))
	}
	return serializeLayers(eth, outer, gopacket.Payload(inner))
}

// tunnelCapture returns a builder of the qinq.pcap exchange (an A query
// and answer for qinq.example.org, then a TLS connection to the address
// with the same recorded ClientHello) inside tn instead of VLAN tags.
func tunnelCapture(tn tunnel) func(map[string][]byte) ([]byte, error) {
	return func(h map[string][]byte) ([]byte, error) {
		c := newCap(base.Add(10*time.Minute), time.Millisecond)
		var m must
		q := m.b(query(0x4444, "qinq.example.org", dns.TypeA))
		r := m.b(answer(0x4444, "qinq.example.org", dns.TypeA, "qinq.example.org. 120 IN A 198.51.100.30"))
		if m.err != nil {
			return nil, m.err
		}
		udp(c, tn, 0, ap(client4, 50001), ap(resolver, 53), 1, true, q)
		udp(c, tn, 0, ap(resolver, 53), ap(client4, 50001), 2, false, r)
		t := newTCP(c, tn, ap(client4, 49155), ap(netip.MustParseAddr("198.51.100.30"), 443), 7000)
		t.open()
		hello := h["qinq.example.org"]
		t.send(true, "A", hello[:1400])
		t.send(true, "A", hello[1400:])
		t.send(false, "A", nil)
		t.close()
		return c.pcap(layers.LinkTypeEthernet)
	}
}
