package track

import (
	"fmt"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// TestEvictEmbryonicFirst fills a small table with answered conversations,
// then floods it with SYNs from new sources: the flood evicts its own
// flows (oldest first), never an answered one.
func TestEvictEmbryonicFirst(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	var ended []string
	tab := NewTable(TableOptions{MaxFlows: 8}, func(f *Flow) { ended = append(ended, f.Key.Src.String()) })
	for i := 0; i < 4; i++ {
		c, s := fmt.Sprintf("10.0.0.%d:40000", i+1), "192.0.2.1:443"
		tab.Lookup(pkt(flow.TCP, c, s, classify.FlagSYN, t0, 60))
		tab.Lookup(pkt(flow.TCP, s, c, classify.FlagSYN|classify.FlagACK, t0, 60))
	}
	for i := 0; i < 100; i++ {
		tab.Lookup(pkt(flow.TCP, fmt.Sprintf("100.64.%d.%d:1234", i/256, i%256), "198.51.100.1:443", classify.FlagSYN, t0.Add(time.Millisecond), 60))
	}
	if tab.Stats.Evicted != 96 {
		t.Errorf("evicted %d; want 96", tab.Stats.Evicted)
	}
	for _, src := range ended {
		if src[:3] == "10." {
			t.Errorf("answered flow from %s was evicted", src)
		}
	}
	// With only answered flows left to choose from, the oldest goes.
	tab2 := NewTable(TableOptions{MaxFlows: 2}, nil)
	for i := 0; i < 3; i++ {
		c, s := fmt.Sprintf("10.0.1.%d:40000", i+1), "192.0.2.1:443"
		tab2.Lookup(pkt(flow.TCP, c, s, classify.FlagSYN, t0.Add(time.Duration(i)*time.Second), 60))
		tab2.Lookup(pkt(flow.TCP, s, c, classify.FlagSYN|classify.FlagACK, t0.Add(time.Duration(i)*time.Second), 60))
	}
	if tab2.Stats.Evicted != 1 || tab2.Len() != 2 {
		t.Errorf("evicted %d, %d flows; want 1, 2", tab2.Stats.Evicted, tab2.Len())
	}
}
