package classify

import (
	"net/netip"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/flow"
)

// TestInspectorBudget floods an Inspector with half-open ClientHellos (the
// first segment of a 4 KB hello, never completed): the bytes held stay
// under the budget, the streams past it give up and are counted, and
// releasing the streams returns every byte.
func TestInspectorBudget(t *testing.T) {
	in := NewInspector()
	in.Budget = 16 << 10
	first := make([]byte, 600)
	copy(first, []byte{0x16, 0x03, 0x01, 0x10, 0x00, 0x01, 0x00, 0x0f, 0xfc, 0x03, 0x03})
	streams := make([]Stream, 500)
	for i := range streams {
		p := &Packet{
			Time:     time.Unix(0, 0),
			Key:      flow.Key{Proto: flow.TCP, Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 40000), Dst: netip.MustParseAddrPort("192.0.2.1:443")},
			TCPSeq:   1000,
			TCPFlags: FlagACK | FlagPSH,
			Payload:  first,
		}
		in.Inspect(&streams[i], p, true)
		if in.Held() > in.Budget {
			t.Fatalf("after %d streams: %d bytes held, budget %d", i+1, in.Held(), in.Budget)
		}
	}
	if in.Stats.BudgetRefused == 0 {
		t.Fatalf("no stream refused; %d bytes held", in.Held())
	}
	if held := in.Held(); held < in.Budget/2 {
		t.Errorf("only %d bytes held under a %d budget: streams gave up too early", held, in.Budget)
	}
	for i := range streams {
		streams[i].Release()
	}
	if in.Held() != 0 {
		t.Errorf("%d bytes still held after every stream was released", in.Held())
	}
}
