package track

import (
	"net/netip"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func pkt(proto flow.Proto, src, dst string, flags uint8, at time.Time, wire int) *classify.Packet {
	return &classify.Packet{
		Time:     at,
		WireLen:  wire,
		Key:      flow.Key{Proto: proto, Src: ap(src), Dst: ap(dst)},
		TCPFlags: flags,
	}
}

func TestOrientation(t *testing.T) {
	const (
		syn    = classify.FlagSYN
		synack = classify.FlagSYN | classify.FlagACK
		ack    = classify.FlagACK
	)
	cases := []struct {
		name          string
		proto         flow.Proto
		src, dst      string
		flags         uint8
		wantInitiator string // Key.Src of the new flow
		wantFromInit  bool
	}{
		{"syn from client", flow.TCP, "10.0.0.1:50000", "1.1.1.1:443", syn, "10.0.0.1:50000", true},
		{"syn from low port still initiator", flow.TCP, "10.0.0.1:443", "1.1.1.1:50000", syn, "10.0.0.1:443", true},
		{"syn-ack first", flow.TCP, "1.1.1.1:443", "10.0.0.1:50000", synack, "10.0.0.1:50000", false},
		{"syn-ack first both high ports", flow.TCP, "1.1.1.1:40000", "10.0.0.1:50000", synack, "10.0.0.1:50000", false},
		{"mid-stream from 443", flow.TCP, "1.1.1.1:443", "10.0.0.1:50000", ack, "10.0.0.1:50000", false},
		{"mid-stream to 443", flow.TCP, "10.0.0.1:50000", "1.1.1.1:443", ack, "10.0.0.1:50000", true},
		{"udp query to 53", flow.UDP, "10.0.0.1:40000", "8.8.8.8:53", 0, "10.0.0.1:40000", true},
		{"udp answer from 53 first", flow.UDP, "8.8.8.8:53", "10.0.0.1:40000", 0, "10.0.0.1:40000", false},
		{"both high ports: first sender", flow.UDP, "10.0.0.2:50000", "10.0.0.1:40000", 0, "10.0.0.2:50000", true},
		{"both high ports tcp ack: first sender", flow.TCP, "10.0.0.1:40000", "10.0.0.2:50000", ack, "10.0.0.1:40000", true},
		{"both service ports: higher port initiates", flow.UDP, "10.0.0.1:53", "10.0.0.2:5353", 0, "10.0.0.2:5353", false},
		{"1024 counts as client port", flow.TCP, "10.0.0.1:1024", "1.1.1.1:80", ack, "10.0.0.1:1024", true},
		{"ipv6 udp to 443", flow.UDP, "[2001:db8::1]:60000", "[2001:db8::2]:443", 0, "[2001:db8::1]:60000", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := NewTable(TableOptions{}, nil)
			f, fromInit, isNew := tab.Lookup(pkt(c.proto, c.src, c.dst, c.flags, t0, 60))
			if !isNew {
				t.Fatal("first packet: isNew = false")
			}
			if got := f.Key.Src.String(); got != c.wantInitiator {
				t.Errorf("initiator = %s, want %s", got, c.wantInitiator)
			}
			if fromInit != c.wantFromInit {
				t.Errorf("fromInitiator = %v, want %v", fromInit, c.wantFromInit)
			}
			if f.Key.Proto != c.proto {
				t.Errorf("proto = %v, want %v", f.Key.Proto, c.proto)
			}
			// The reply lands on the same flow, from the other side, and
			// does not change the orientation.
			f2, fromInit2, isNew2 := tab.Lookup(pkt(c.proto, c.dst, c.src, classify.FlagACK, t0.Add(time.Millisecond), 60))
			if f2 != f || isNew2 || fromInit2 == fromInit {
				t.Errorf("reply: same=%v isNew=%v fromInitiator=%v", f2 == f, isNew2, fromInit2)
			}
			if got := f.Key.Src.String(); got != c.wantInitiator {
				t.Errorf("after reply initiator = %s, want %s", got, c.wantInitiator)
			}
			if tab.Len() != 1 || tab.Stats.Flows != 1 {
				t.Errorf("Len=%d Flows=%d, want 1,1", tab.Len(), tab.Stats.Flows)
			}
		})
	}
}

func TestAccounting(t *testing.T) {
	cases := []struct {
		name             string
		proto            flow.Proto
		client, server   string
		first            uint8 // flags of the first (client) packet
		fromClient       []int
		fromServer       []int
		wantPkts, wantBy [2]uint64
	}{
		{"tcp handshake and data", flow.TCP, "10.0.0.1:50000", "1.1.1.1:443", classify.FlagSYN,
			[]int{74, 66, 583}, []int{74, 1514}, [2]uint64{3, 2}, [2]uint64{74 + 66 + 583, 74 + 1514}},
		{"udp dns", flow.UDP, "10.0.0.1:40000", "8.8.8.8:53", 0,
			[]int{80}, []int{120, 130}, [2]uint64{1, 2}, [2]uint64{80, 250}},
		{"client only", flow.UDP, "10.0.0.1:40000", "10.0.0.9:40001", 0,
			[]int{100, 100, 100, 100}, nil, [2]uint64{4, 0}, [2]uint64{400, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := NewTable(TableOptions{}, nil)
			at := t0
			var f *Flow
			for i, n := range c.fromClient {
				flags := uint8(classify.FlagACK)
				if i == 0 {
					flags = c.first
				}
				g, fromInit, isNew := tab.Lookup(pkt(c.proto, c.client, c.server, flags, at, n))
				if !fromInit {
					t.Errorf("client packet %d: fromInitiator false", i)
				}
				if isNew != (i == 0) {
					t.Errorf("client packet %d: isNew=%v", i, isNew)
				}
				if f != nil && g != f {
					t.Fatalf("client packet %d: different flow", i)
				}
				f = g
				at = at.Add(10 * time.Millisecond)
			}
			for i, n := range c.fromServer {
				flags := uint8(classify.FlagACK)
				if i == 0 && c.first == classify.FlagSYN {
					flags = classify.FlagSYN | classify.FlagACK
				}
				g, fromInit, isNew := tab.Lookup(pkt(c.proto, c.server, c.client, flags, at, n))
				if fromInit || isNew || g != f {
					t.Errorf("server packet %d: fromInitiator=%v isNew=%v same=%v", i, fromInit, isNew, g == f)
				}
				at = at.Add(10 * time.Millisecond)
			}
			if f.Packets != c.wantPkts || f.Bytes != c.wantBy {
				t.Errorf("Packets=%v Bytes=%v, want %v %v", f.Packets, f.Bytes, c.wantPkts, c.wantBy)
			}
			if !f.First.Equal(t0) || !f.Last.Equal(at.Add(-10*time.Millisecond)) {
				t.Errorf("First=%v Last=%v", f.First, f.Last)
			}
		})
	}
}

func TestFirstPacketMetadata(t *testing.T) {
	mac := [6]byte{0x02, 0xab, 0xcd, 0xef, 0x01, 0x23}
	srvMAC := [6]byte{0x02, 0, 0, 0, 0, 0x99}
	tab := NewTable(TableOptions{}, nil)
	// Server speaks first (mid-stream): its MAC must not become the
	// initiator's MAC; the client's packet fills it in later.
	p := pkt(flow.TCP, "1.1.1.1:443", "10.0.0.1:50000", classify.FlagACK, t0, 60)
	p.Sender.MAC, p.Sender.HasMAC = srvMAC, true
	p.Seq, p.Path = 7, "a.pcap"
	p.Sender.VLAN, p.Sender.NVLAN = [2]uint16{100, 200}, 2
	f, _, _ := tab.Lookup(p)
	if f.Device.HasMAC {
		t.Errorf("responder's MAC taken as initiator's: %x", f.Device.MAC)
	}
	if f.FirstSeq != 7 || f.Path != "a.pcap" || f.Device.NVLAN != 2 || f.Device.VLAN != [2]uint16{100, 200} {
		t.Errorf("FirstSeq=%d Path=%q VLAN=%v/%d", f.FirstSeq, f.Path, f.Device.VLAN, f.Device.NVLAN)
	}
	q := pkt(flow.TCP, "10.0.0.1:50000", "1.1.1.1:443", classify.FlagACK, t0.Add(time.Millisecond), 60)
	q.Sender.MAC, q.Sender.HasMAC = mac, true
	tab.Lookup(q)
	if !f.Device.HasMAC || f.Device.MAC != mac {
		t.Errorf("SrcMAC=%x HasMAC=%v, want %x", f.Device.MAC, f.Device.HasMAC, mac)
	}
}

// ended records copies of the flows a table ends (the table recycles them).
type ended struct{ flows []Flow }

func (e *ended) end(f *Flow) { e.flows = append(e.flows, *f) }

func TestExpiry(t *testing.T) {
	opts := TableOptions{TCPIdle: 5 * time.Minute, TCPClosed: 10 * time.Second, UDPIdle: 30 * time.Second, OtherIdle: time.Minute}
	cases := []struct {
		name  string
		setup []*classify.Packet // packets of the flow under test, from t0
		idle  time.Duration      // expected expiry after its last packet
	}{
		{"udp idle", []*classify.Packet{
			pkt(flow.UDP, "10.0.0.1:40000", "8.8.8.8:53", 0, t0, 80),
			pkt(flow.UDP, "8.8.8.8:53", "10.0.0.1:40000", 0, t0.Add(5*time.Millisecond), 120),
		}, 30 * time.Second},
		{"tcp closed by fin", []*classify.Packet{
			pkt(flow.TCP, "10.0.0.1:50000", "1.1.1.1:443", classify.FlagSYN, t0, 74),
			pkt(flow.TCP, "1.1.1.1:443", "10.0.0.1:50000", classify.FlagSYN|classify.FlagACK, t0.Add(time.Millisecond), 74),
			pkt(flow.TCP, "10.0.0.1:50000", "1.1.1.1:443", classify.FlagFIN|classify.FlagACK, t0.Add(2*time.Millisecond), 66),
		}, 10 * time.Second},
		{"tcp closed by rst", []*classify.Packet{
			pkt(flow.TCP, "10.0.0.1:50001", "1.1.1.1:443", classify.FlagSYN, t0, 74),
			pkt(flow.TCP, "1.1.1.1:443", "10.0.0.1:50001", classify.FlagRST, t0.Add(time.Millisecond), 60),
		}, 10 * time.Second},
		{"tcp open", []*classify.Packet{
			pkt(flow.TCP, "10.0.0.1:50002", "1.1.1.1:443", classify.FlagSYN, t0, 74),
		}, 5 * time.Minute},
		{"other proto", []*classify.Packet{
			pkt(flow.Proto(1), "10.0.0.1:0", "1.1.1.1:0", 0, t0, 98),
		}, time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e ended
			tab := NewTable(opts, e.end)
			var want [2]uint64
			var wantBytes [2]uint64
			for _, p := range c.setup {
				_, fromInit, _ := tab.Lookup(p)
				d := 1
				if fromInit {
					d = 0
				}
				want[d]++
				wantBytes[d] += uint64(p.WireLen)
			}
			last := c.setup[len(c.setup)-1].Time
			// Another flow's packet one sweep interval (1 s of packet time)
			// before the deadline: nothing ends.
			tab.Lookup(pkt(flow.UDP, "10.0.0.50:40000", "10.0.0.60:40001", 0, last.Add(c.idle-time.Second), 60))
			if len(e.flows) != 0 || tab.Stats.Expired != 0 {
				t.Fatalf("ended %d flows before the deadline", len(e.flows))
			}
			// At the deadline, the flow ends with its counts.
			tab.Lookup(pkt(flow.UDP, "10.0.0.51:40000", "10.0.0.60:40001", 0, last.Add(c.idle), 60))
			if len(e.flows) != 1 {
				t.Fatalf("ended %d flows at the deadline, want 1", len(e.flows))
			}
			got := e.flows[0]
			if got.Key != c.setup[0].Key && got.Key != c.setup[0].Key.Reverse() {
				t.Errorf("ended flow %v, want %v", got.Key, c.setup[0].Key)
			}
			if got.Packets != want || got.Bytes != wantBytes {
				t.Errorf("ended flow Packets=%v Bytes=%v, want %v %v", got.Packets, got.Bytes, want, wantBytes)
			}
			if !got.Last.Equal(last) || !got.First.Equal(t0) {
				t.Errorf("ended flow First=%v Last=%v", got.First, got.Last)
			}
			if tab.Stats.Expired != 1 || tab.Len() != 2 || tab.Stats.Active != 2 {
				t.Errorf("Expired=%d Len=%d Active=%d, want 1 2 2", tab.Stats.Expired, tab.Len(), tab.Stats.Active)
			}
			// The same 5-tuple now makes a new flow.
			_, _, isNew := tab.Lookup(c.setup[0])
			if !isNew {
				t.Error("packet of an expired flow did not start a new flow")
			}
		})
	}
}

func TestNoExpiryWithoutTimeAdvance(t *testing.T) {
	cases := []struct {
		name string
		at   func(i int) time.Time
	}{
		{"constant time", func(int) time.Time { return t0 }},
		{"time going backwards", func(i int) time.Time { return t0.Add(-time.Duration(i) * time.Hour) }},
		{"zero time", func(int) time.Time { return time.Time{} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e ended
			tab := NewTable(TableOptions{UDPIdle: time.Second, TCPClosed: time.Second, TCPIdle: time.Second}, e.end)
			for i := range 500 {
				src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 40000)
				p := &classify.Packet{Time: c.at(i), WireLen: 60, TCPFlags: classify.FlagFIN,
					Key: flow.Key{Proto: flow.Proto(6 + 11*(i%2)), Src: src, Dst: ap("10.9.9.9:443")}}
				tab.Lookup(p)
			}
			if len(e.flows) != 0 || tab.Stats.Expired != 0 || tab.Len() != 500 {
				t.Errorf("ended=%d Expired=%d Len=%d, want 0 0 500", len(e.flows), tab.Stats.Expired, tab.Len())
			}
		})
	}
}

func TestMaxFlowsEviction(t *testing.T) {
	cases := []struct {
		name        string
		max, flows  int
		wantEvicted uint64
	}{
		{"under cap", 8, 5, 0},
		{"at cap", 8, 8, 0},
		{"one over", 8, 9, 1},
		{"many over", 4, 100, 96},
		{"cap one", 1, 10, 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e ended
			tab := NewTable(TableOptions{MaxFlows: c.max}, e.end)
			for i := range c.flows {
				src := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+i))
				tab.Lookup(&classify.Packet{Time: t0, WireLen: 60, Key: flow.Key{Proto: flow.UDP, Src: src, Dst: ap("8.8.8.8:53")}})
			}
			if tab.Stats.Evicted != c.wantEvicted || uint64(len(e.flows)) != c.wantEvicted {
				t.Errorf("Evicted=%d ended=%d, want %d", tab.Stats.Evicted, len(e.flows), c.wantEvicted)
			}
			wantLen := min(c.flows, c.max)
			if tab.Len() != wantLen || tab.Stats.Active != wantLen || tab.Stats.Flows != uint64(c.flows) {
				t.Errorf("Len=%d Active=%d Flows=%d", tab.Len(), tab.Stats.Active, tab.Stats.Flows)
			}
			// The oldest flows were evicted, in order.
			for i, f := range e.flows {
				if got, want := f.Key.Src.Port(), uint16(40000+i); got != want {
					t.Errorf("evicted #%d has port %d, want %d", i, got, want)
				}
			}
			if tab.Stats.Expired != 0 {
				t.Errorf("Expired=%d, want 0", tab.Stats.Expired)
			}
		})
	}
}

func TestEvictionIsLRU(t *testing.T) {
	var e ended
	tab := NewTable(TableOptions{MaxFlows: 3}, e.end)
	p := func(port uint16) *classify.Packet {
		return &classify.Packet{Time: t0, WireLen: 60, Key: flow.Key{Proto: flow.UDP,
			Src: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), Dst: ap("8.8.8.8:53")}}
	}
	tab.Lookup(p(40001))
	tab.Lookup(p(40002))
	tab.Lookup(p(40003))
	// A reply touches 40001, so 40002 is now least recently used.
	r := p(40001)
	r.Key = r.Key.Reverse()
	tab.Lookup(r)
	tab.Lookup(p(40004))
	if len(e.flows) != 1 || e.flows[0].Key.Src.Port() != 40002 {
		t.Fatalf("evicted %v, want the flow of port 40002", e.flows)
	}
	if e.flows[0].Packets != [2]uint64{1, 0} {
		t.Errorf("evicted flow Packets=%v", e.flows[0].Packets)
	}
}

func TestFlush(t *testing.T) {
	var e ended
	tab := NewTable(TableOptions{}, e.end)
	for i := range 10 {
		src := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+i))
		tab.Lookup(&classify.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), WireLen: 100 + i,
			Key: flow.Key{Proto: flow.TCP, Src: src, Dst: ap("1.1.1.1:443")}, TCPFlags: classify.FlagSYN})
	}
	tab.Flush()
	if len(e.flows) != 10 || tab.Len() != 0 || tab.Stats.Active != 0 {
		t.Fatalf("ended=%d Len=%d Active=%d, want 10 0 0", len(e.flows), tab.Len(), tab.Stats.Active)
	}
	for i, f := range e.flows { // oldest first
		if f.Key.Src.Port() != uint16(40000+i) || f.Bytes[0] != uint64(100+i) {
			t.Errorf("flush #%d: port %d bytes %d", i, f.Key.Src.Port(), f.Bytes[0])
		}
	}
	if tab.Stats.Expired != 0 || tab.Stats.Evicted != 0 {
		t.Errorf("Expired=%d Evicted=%d after Flush, want 0 0", tab.Stats.Expired, tab.Stats.Evicted)
	}
	tab.Flush() // empty: no more calls
	if len(e.flows) != 10 {
		t.Errorf("second Flush ended %d more", len(e.flows)-10)
	}
	// The table still works, with recycled flows zeroed.
	f, _, isNew := tab.Lookup(pkt(flow.UDP, "10.0.0.2:40000", "8.8.8.8:53", 0, t0, 80))
	if !isNew || f.Packets != [2]uint64{1, 0} || f.Bytes != [2]uint64{80, 0} || f.Name != "" || f.closing {
		t.Errorf("reused flow not clean: %+v", *f)
	}
	// nil end is allowed.
	NewTable(TableOptions{}, nil).Flush()
}

func TestLookupKnownAllocs(t *testing.T) {
	tab := NewTable(TableOptions{}, nil)
	c := pkt(flow.TCP, "10.0.0.1:50000", "1.1.1.1:443", classify.FlagACK, t0, 1500)
	s := pkt(flow.TCP, "1.1.1.1:443", "10.0.0.1:50000", classify.FlagACK, t0, 1500)
	tab.Lookup(c)
	n := testing.AllocsPerRun(1000, func() {
		c.Time = c.Time.Add(time.Millisecond * 3) // crosses sweeps
		s.Time = c.Time
		tab.Lookup(c)
		tab.Lookup(s)
	})
	if n != 0 {
		t.Errorf("Lookup of a known flow: %v allocs, want 0", n)
	}
}

func BenchmarkLookupKnown(b *testing.B) {
	tab := NewTable(TableOptions{}, nil)
	ps := make([]*classify.Packet, 1024)
	for i := range ps {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(40000+i))
		ps[i] = &classify.Packet{Time: t0, WireLen: 100, Key: flow.Key{Proto: flow.TCP, Src: src, Dst: ap("1.1.1.1:443")}}
		tab.Lookup(ps[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tab.Lookup(ps[i&1023])
	}
}
