package track

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// TestHashChains runs one random packet sequence (both directions, TCP
// and UDP, IPv4 next to the same addresses as IPv4-mapped IPv6, FINs,
// idle gaps, a full table) through tables whose hashes are narrowed so
// that every flow shares one chain, or four, and through a normal one:
// the flows, their counters and the order they end in must not differ.
func TestHashChains(t *testing.T) {
	run := func(mask uint64) []string {
		var log []string
		tab := NewTable(TableOptions{MaxFlows: 40, UDPIdle: 30 * time.Second, TCPClosed: 2 * time.Second}, func(f *Flow) {
			log = append(log, fmt.Sprintf("end %v p=%v b=%v", f.Key, f.Packets, f.Bytes))
		})
		tab.hmask = mask
		r := rand.New(rand.NewPCG(1, 2))
		now := t0
		for i := range 20000 {
			now = now.Add(time.Duration(r.IntN(20)) * time.Millisecond)
			if r.IntN(500) == 0 {
				now = now.Add(time.Minute)
			}
			a := netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(6))})
			b := netip.AddrFrom4([4]byte{192, 0, 2, byte(r.IntN(4))})
			if r.IntN(5) == 0 {
				a, b = netip.AddrFrom16(a.As16()), netip.AddrFrom16(b.As16()) // same bytes, IPv6
			}
			k := flow.Key{Proto: flow.UDP, Src: netip.AddrPortFrom(a, uint16(40000+r.IntN(8))), Dst: netip.AddrPortFrom(b, 53)}
			var flags uint8
			if r.IntN(2) == 0 {
				k.Proto = flow.TCP
				flags = classify.FlagACK
				if r.IntN(50) == 0 {
					flags |= classify.FlagFIN
				}
			}
			if r.IntN(2) == 0 {
				k = k.Reverse()
			}
			f, _, isNew := tab.Lookup(&classify.Packet{Time: now, WireLen: 60 + i%7, Key: k, TCPFlags: flags})
			if isNew {
				log = append(log, fmt.Sprintf("new %v", f.Key))
			}
		}
		tab.Flush()
		if tab.Len() != 0 || len(tab.m) != 0 {
			t.Fatalf("mask %#x: %d flows, %d hashes left after Flush", mask, tab.Len(), len(tab.m))
		}
		log = append(log, fmt.Sprintf("stats %+v", tab.Stats))
		return log
	}
	want := run(^uint64(0))
	if len(want) < 1000 {
		t.Fatalf("only %d events: the sequence does not exercise the table", len(want))
	}
	for _, mask := range []uint64{0, 3} {
		got := run(mask)
		if len(got) != len(want) {
			t.Fatalf("mask %#x: %d events, want %d", mask, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("mask %#x: event %d\n got %s\nwant %s", mask, i, got[i], want[i])
			}
		}
	}
}

// TestHashSymmetric: both directions of a key hash alike, and the
// endpoints' pairing matters (swapping only the ports is another flow).
func TestHashSymmetric(t *testing.T) {
	tab := NewTable(TableOptions{}, nil)
	k := flow.Key{Proto: flow.TCP, Src: ap("10.0.0.1:40000"), Dst: ap("192.0.2.1:443")}
	if tab.hash(k) != tab.hash(k.Reverse()) {
		t.Fatal("the two directions hash differently")
	}
	swapped := flow.Key{Proto: flow.TCP, Src: ap("10.0.0.1:443"), Dst: ap("192.0.2.1:40000")}
	if tab.hash(k) == tab.hash(swapped) {
		t.Error("swapping the ports alone gives the same hash")
	}
}
