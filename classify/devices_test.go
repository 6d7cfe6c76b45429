package classify

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/egresswatch/egresswatch/capture"
)

// devicePayloads returns the UDP payloads to or from port in the shared
// device-identity captures (none when the folder is absent): seeds for
// the fuzz targets.
func devicePayloads(tb testing.TB, ports ...uint16) [][]byte {
	tb.Helper()
	files, _ := filepath.Glob("../../shared/devices/*.pcap*")
	var out [][]byte
	d := NewDecoder(Options{})
	for _, path := range files {
		src, err := capture.OpenAll([]string{path})
		if err != nil {
			continue
		}
		var p Packet
		for n := 0; n < 64; {
			fr, err := src.Next()
			if err != nil {
				break
			}
			if d.Decode(fr, &p) != ResultL4 {
				continue
			}
			for _, port := range ports {
				if p.Key.Src.Port() == port || p.Key.Dst.Port() == port {
					out = append(out, append([]byte(nil), p.Payload...))
					n++
					break
				}
			}
		}
		src.Close()
	}
	return out
}

// dhcpv4Msg builds a DHCPv4 message: the fixed part with chaddr, then
// options (code, value pairs), then end.
func dhcpv4Msg(op byte, yiaddr string, opts ...[]byte) []byte {
	b := make([]byte, 240)
	b[0], b[1], b[2] = op, 1, 6
	binary.BigEndian.PutUint32(b[4:], 0x1234abcd)
	if yiaddr != "" {
		a := netip.MustParseAddr(yiaddr).As4()
		copy(b[16:20], a[:])
	}
	copy(b[28:34], []byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55})
	copy(b[236:], dhcpMagic[:])
	for _, o := range opts {
		b = append(b, o...)
	}
	return append(b, 255)
}

func opt(code byte, v ...byte) []byte { return append([]byte{code, byte(len(v))}, v...) }

func TestParseDHCPv4(t *testing.T) {
	ack := dhcpv4Msg(2, "10.12.40.87",
		opt(53, DHCPAck), opt(51, 0, 0, 0x0e, 0x10), opt(12, []byte("GOV-LT-0412")...),
		opt(81, append([]byte{0x04, 0, 0, 6}, []byte("gov-lt\x07example\x00")...)...),
		opt(82, 1, 2, 0xaa, 0xbb), opt(15, []byte("corp.example")...))
	var m DHCPMessage
	if !parseDHCPv4(ack, &m) {
		t.Fatal("parseDHCPv4(ack) = false")
	}
	if m.Type != DHCPAck || m.AssignedIP != netip.MustParseAddr("10.12.40.87") || !m.HasLease || m.LeaseTime != 3600 ||
		string(m.Hostname) != "GOV-LT-0412" || string(m.FQDN) != "gov-lt.example" || string(m.DomainName) != "corp.example" ||
		string(m.CircuitID) != "\xaa\xbb" || m.ClientMAC != [6]byte{2, 0x11, 0x22, 0x33, 0x44, 0x55} {
		t.Errorf("parseDHCPv4(ack) = %+v", m)
	}
	// Option overload: the type and host name in the file field.
	ov := dhcpv4Msg(1, "", opt(52, 1))
	copy(ov[108:], append(opt(53, DHCPDiscover), opt(12, 'p', 'c', '1')...))
	ov[108+8] = 255
	if !parseDHCPv4(ov, &m) || m.Type != DHCPDiscover || string(m.Hostname) != "pc1" {
		t.Errorf("parseDHCPv4(overloaded) = %+v", m)
	}
	for _, bad := range [][]byte{nil, ack[:239], append([]byte{3}, ack[1:]...)} {
		if parseDHCPv4(bad, &m) {
			t.Errorf("parseDHCPv4(%d bytes) = true", len(bad))
		}
	}
	// Cut short inside an option: what was read stays.
	if !parseDHCPv4(ack[:245], &m) || m.Type != DHCPAck || m.HasLease {
		t.Errorf("parseDHCPv4(cut) = %+v", m)
	}
}

func opt6(code uint16, v ...byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

func dhcpv6Reply() []byte {
	addr := netip.MustParseAddr("2001:db8::87").As16()
	iaaddr := opt6(5, append(append(addr[:], 0, 0, 0x0e, 0x10), 0, 0, 0x1c, 0x20)...)
	ia := opt6(3, append(make([]byte, 12), iaaddr...)...)
	duid := opt6(1, 0, 3, 0, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55) // DUID-LL
	fqdn := opt6(39, append([]byte{0}, []byte("\x06gov-lt\x00")...)...)
	b := []byte{DHCPv6Reply, 0xaa, 0xbb, 0xcc}
	b = append(b, duid...)
	b = append(b, ia...)
	return append(b, fqdn...)
}

func TestParseDHCPv6(t *testing.T) {
	var m DHCPMessage
	if !parseDHCPv6(dhcpv6Reply(), &m) {
		t.Fatal("parseDHCPv6 = false")
	}
	if m.Type != DHCPv6Reply || m.XID != 0xaabbcc || !m.HasMAC || m.ClientMAC != [6]byte{2, 0x11, 0x22, 0x33, 0x44, 0x55} ||
		m.NAddrs != 1 || m.Addrs[0] != netip.MustParseAddr("2001:db8::87") || m.LeaseTime != 7200 || string(m.FQDN) != "gov-lt" {
		t.Errorf("parseDHCPv6 = %+v", m)
	}
	// Relayed: relay-forw around the reply.
	relay := append([]byte{DHCPv6RelayForw, 0}, make([]byte, 32)...)
	relay = append(relay, opt6(9, dhcpv6Reply()...)...)
	if !parseDHCPv6(relay, &m) || !m.Relayed || m.Type != DHCPv6Reply || m.NAddrs != 1 {
		t.Errorf("parseDHCPv6(relayed) = %+v", m)
	}
}

// nbnsRegistration builds a name registration of name (suffix 0x00) for
// addr.
func nbnsRegistration(name string, addr [4]byte) []byte {
	b := []byte{0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1}
	enc := func(b []byte) []byte {
		var n [16]byte
		copy(n[:], name)
		for i := len(name); i < 15; i++ {
			n[i] = ' '
		}
		b = append(b, 32)
		for _, c := range n {
			b = append(b, 'A'+c>>4, 'A'+c&15)
		}
		return append(b, 0)
	}
	b = enc(b)
	b = append(b, 0, 0x20, 0, 1)
	b = append(b, 0xc0, 12, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0, 0)
	return append(b, addr[:]...)
}

func TestParseNBNS(t *testing.T) {
	var m NBNSMessage
	if !parseNBNS(nbnsRegistration("GOV-LT-0412", [4]byte{10, 12, 40, 87}), &m) {
		t.Fatal("parseNBNS = false")
	}
	if m.NameString() != "GOV-LT-0412<00>" || m.Opcode != 5 || m.NAddrs != 1 || m.Addrs[0] != netip.MustParseAddr("10.12.40.87") || m.Group || m.TTL != 3600 {
		t.Errorf("parseNBNS = %+v (%s)", m, m.NameString())
	}
}

// TestDeviceParseAllocs: reading a DHCP, DHCPv6 or NBNS message allocates
// nothing.
func TestDeviceParseAllocs(t *testing.T) {
	ack := dhcpv4Msg(2, "10.0.0.2", opt(53, DHCPAck), opt(12, 'p', 'c'), opt(81, 4, 0, 0, 2, 'p', 'c', 0))
	v6, nb := dhcpv6Reply(), nbnsRegistration("PC", [4]byte{10, 0, 0, 2})
	var m DHCPMessage
	var n NBNSMessage
	for name, f := range map[string]func(){
		"dhcpv4": func() { parseDHCPv4(ack, &m) },
		"dhcpv6": func() { parseDHCPv6(v6, &m) },
		"nbns":   func() { parseNBNS(nb, &n) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocs, want 0", name, a)
		}
	}
}

func BenchmarkParseDHCPv4(b *testing.B) {
	ack := dhcpv4Msg(2, "10.0.0.2", opt(53, DHCPAck), opt(12, 'p', 'c'))
	var m DHCPMessage
	b.ReportAllocs()
	for b.Loop() {
		parseDHCPv4(ack, &m)
	}
}

func FuzzDHCPv4(f *testing.F) {
	for _, p := range devicePayloads(f, 67, 68) {
		f.Add(p)
	}
	f.Add(dhcpv4Msg(2, "10.0.0.2", opt(53, DHCPAck), opt(52, 3), opt(81, 4, 0, 0, 2, 'p', 'c', 0), opt(82, 1, 0, 2, 9)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m DHCPMessage
		if parseDHCPv4(b, &m) && len(m.FQDN) > len(m.fqdn) {
			t.Fatalf("FQDN of %d bytes", len(m.FQDN))
		}
	})
}

func FuzzDHCPv6(f *testing.F) {
	for _, p := range devicePayloads(f, 546, 547) {
		f.Add(p)
	}
	f.Add(dhcpv6Reply())
	f.Fuzz(func(t *testing.T, b []byte) {
		var m DHCPMessage
		if parseDHCPv6(b, &m) && int(m.NAddrs) > maxDHCPAddrs {
			t.Fatalf("%d addresses", m.NAddrs)
		}
	})
}

func FuzzNBNS(f *testing.F) {
	for _, p := range devicePayloads(f, 137) {
		f.Add(p)
	}
	f.Add(nbnsRegistration("GOV-LT-0412", [4]byte{10, 12, 40, 87}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m NBNSMessage
		if parseNBNS(b, &m) {
			_ = m.NameString()
		}
	})
}
