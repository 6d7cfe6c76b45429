package classify

import (
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture"
)

// arubaFrame is frame 1 of zeek-gre-aruba.pcap: Ethernet, 802.1Q, IPv4,
// GRE protocol 0x8200, an 802.11 QoS data frame to the DS, LLC/SNAP, IPv4,
// TCP 10.37.36.92:58973 -> 205.185.216.10:80 (an ACK).
const arubaFrame = "0011dc000001f05c19cfc8d68100012c0800450000624b030000ff2f2f840a0322ab0a210a17" +
	"00008200" +
	"88010000f05c197c8d705c5f67022e7a0011dc000001807d0000" +
	"aaaa030000000800" +
	"450000286ea840008006b7e20a25245ccdb9d80ae65d005005e6e91bd4485b0050110100a3f40000"

func TestArubaGRE(t *testing.T) {
	data, _ := hex.DecodeString(arubaFrame)
	d := NewDecoder(Options{})
	var p Packet
	if r := d.Decode(capture.Frame{Data: data, LinkType: layers.LinkTypeEthernet, WireLen: len(data)}, &p); r != ResultL4 {
		t.Fatalf("Decode = %d, want ResultL4", r)
	}
	if want := netip.MustParseAddrPort("10.37.36.92:58973"); p.Key.Src != want || p.Key.Dst.Port() != 80 {
		t.Errorf("key %v, want %v -> :80", p.Key, want)
	}
	if p.Tunnel.Kind != TunnelGRE || p.Tunnel.Src != netip.MustParseAddr("10.3.34.171") {
		t.Errorf("tunnel %+v", p.Tunnel)
	}
	// To the DS: the station is Address 2, the destination Address 3.
	if got := hex.EncodeToString(p.Sender.MAC[:]) + " " + hex.EncodeToString(p.DstMAC[:]); got != "5c5f67022e7a 0011dc000001" {
		t.Errorf("MACs %s", got)
	}
	if n := testing.AllocsPerRun(100, func() {
		d.Decode(capture.Frame{Data: data, LinkType: layers.LinkTypeEthernet, WireLen: len(data)}, &p)
	}); n != 0 {
		t.Errorf("Decode(Aruba GRE) = %v allocs, want 0", n)
	}
}

func TestWLANLayer(t *testing.T) {
	hdr := func(fc, flags byte, extra int) []byte {
		b := []byte{fc, flags, 0, 0}
		for i := 0; i < 18; i++ { // Address 1, 2, 3: 0x01.., 0x02.., 0x03..
			b = append(b, byte(i/6+1))
		}
		b = append(b, 0, 0) // sequence control
		for i := 0; i < extra; i++ {
			b = append(b, 4) // Address 4 (0x04..), QoS, HT control
		}
		return b
	}
	snapIPv4 := []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45}
	for _, tt := range []struct {
		name      string
		frame     []byte
		next      string
		src       byte // first byte of the source address, 0: none
		undecoded bool
		err       bool
	}{
		{"data to the DS", append(hdr(0x08, wlanToDS, 0), snapIPv4...), "IPv4", 2, false, false},
		{"data from the DS", append(hdr(0x08, wlanFromDS, 0), snapIPv4...), "IPv4", 3, false, false},
		{"QoS data, WDS", append(hdr(0x88, wlanToDS|wlanFromDS, 6+2), snapIPv4...), "IPv4", 4, false, false},
		{"QoS data with HT control", append(hdr(0x88, wlanToDS|wlanOrder, 2+4), snapIPv4...), "IPv4", 2, false, false},
		{"IPv6", append(hdr(0x08, wlanToDS, 0), 0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd, 0x60), "IPv6", 2, false, false},
		{"protected", append(hdr(0x08, wlanToDS|wlanProtected, 0), snapIPv4...), "Unknown", 2, true, false},
		{"not SNAP", append(hdr(0x08, wlanToDS, 0), 0xf0, 0xf0, 0x03, 0, 0, 0, 0, 0), "Unknown", 2, true, false},
		{"null function", hdr(0x48, wlanToDS, 0), "Unknown", 2, false, false},
		{"beacon", hdr(0x80, 0, 0), "Unknown", 0, false, false},
		{"truncated", hdr(0x08, wlanToDS, 0)[:20], "Unknown", 0, false, true},
		{"QoS field cut off", hdr(0x88, wlanToDS, 0), "Unknown", 0, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var l wlanLayer
			err := l.DecodeFromBytes(tt.frame, &Decoder{})
			if (err != nil) != tt.err || l.next.String() != tt.next || l.undecoded != tt.undecoded {
				t.Fatalf("err %v, next %v, undecoded %v; want err %v, next %s, undecoded %v", err, l.next, l.undecoded, tt.err, tt.next, tt.undecoded)
			}
			if src := byte(0); l.hasAddr && l.src[0] != tt.src || !l.hasAddr && tt.src != src {
				t.Errorf("source address % x (set %v), want %02x..", l.src, l.hasAddr, tt.src)
			}
		})
	}
}

// FuzzWLAN decodes arbitrary bytes as a tunnelled 802.11 frame: it must not
// panic, and what it hands on lies within the frame.
func FuzzWLAN(f *testing.F) {
	data, _ := hex.DecodeString(arubaFrame)
	f.Add(data[42:]) // from the 802.11 header
	f.Add(data[42:68])
	f.Add([]byte{0x88, 0x43, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var l wlanLayer
		if err := l.DecodeFromBytes(b, &Decoder{}); err != nil {
			return
		}
		if len(l.payload) > len(b) {
			t.Fatalf("payload of %d bytes from %d", len(l.payload), len(b))
		}
		// The whole decoder, with the frame inside Aruba GRE.
		frame := append(append([]byte(nil), data[:42]...), b...)
		var p Packet
		NewDecoder(Options{}).Decode(capture.Frame{Data: frame, LinkType: layers.LinkTypeEthernet, WireLen: len(frame)}, &p)
	})
}
