package classify

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestShardHashSymmetric checks that a packet and its reply hash alike,
// also inside VXLAN, and that different host pairs usually differ.
func TestShardHashSymmetric(t *testing.T) {
	a, b := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("198.51.100.9")
	fwd := ipv4UDP(a, b, 40000, 53)
	rev := ipv4UDP(b, a, 53, 40000)
	eth := func(ip []byte) []byte {
		return append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00}, ip...)
	}
	if ShardHash(eth(fwd), layers.LinkTypeEthernet) != ShardHash(eth(rev), layers.LinkTypeEthernet) {
		t.Error("a packet and its reply hash differently")
	}
	if ShardHash(fwd, layers.LinkTypeRaw) != ShardHash(eth(fwd), layers.LinkTypeEthernet) {
		t.Error("raw IP and Ethernet framing of one packet hash differently")
	}
	other := ipv4UDP(netip.MustParseAddr("10.1.2.4"), b, 40000, 53)
	if ShardHash(other, layers.LinkTypeRaw) == ShardHash(fwd, layers.LinkTypeRaw) {
		t.Error("two host pairs hash alike")
	}
	// VXLAN: the inner pair decides, whatever the outer tunnel endpoints.
	vx := func(outerSrc, outerDst netip.Addr, inner []byte) []byte {
		payload := append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, eth(inner)...)
		return ipv4UDPPayload(outerSrc, outerDst, 50000, 4789, payload)
	}
	t1 := netip.MustParseAddr("192.0.2.1")
	t2 := netip.MustParseAddr("192.0.2.2")
	if ShardHash(vx(t1, t2, fwd), layers.LinkTypeRaw) != ShardHash(vx(t2, t1, rev), layers.LinkTypeRaw) {
		t.Error("VXLAN: inner packet and reply hash differently")
	}
	if ShardHash(vx(t1, t2, fwd), layers.LinkTypeRaw) != ShardHash(fwd, layers.LinkTypeRaw) {
		t.Error("VXLAN: the inner pair does not decide")
	}
}

func ipv4UDP(src, dst netip.Addr, sp, dp uint16) []byte {
	return ipv4UDPPayload(src, dst, sp, dp, []byte("x"))
}

func ipv4UDPPayload(src, dst netip.Addr, sp, dp uint16, payload []byte) []byte {
	n := 20 + 8 + len(payload)
	b := make([]byte, n)
	b[0], b[2], b[3], b[8], b[9] = 0x45, byte(n>>8), byte(n), 64, 17
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:16], s4[:])
	copy(b[16:20], d4[:])
	b[20], b[21], b[22], b[23] = byte(sp>>8), byte(sp), byte(dp>>8), byte(dp)
	b[24], b[25] = byte((8+len(payload))>>8), byte(8+len(payload))
	copy(b[28:], payload)
	return b
}

// FuzzShardHash: any bytes on any link type, no panic, same answer twice.
func FuzzShardHash(f *testing.F) {
	a, b := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("198.51.100.9")
	f.Add(ipv4UDP(a, b, 1, 53), uint16(layers.LinkTypeRaw))
	f.Add(append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0, 5, 0x08, 0x00}, ipv4UDP(a, b, 1, 53)...), uint16(layers.LinkTypeEthernet))
	f.Add(ipv4UDPPayload(a, b, 1, 4789, []byte{0x08, 0, 0, 0, 0, 0, 1, 0}), uint16(layers.LinkTypeRaw))
	f.Fuzz(func(t *testing.T, data []byte, lt uint16) {
		h := ShardHash(data, layers.LinkType(lt))
		if ShardHash(data, layers.LinkType(lt)) != h {
			t.Fatal("not deterministic")
		}
	})
}
