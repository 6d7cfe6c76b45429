package track

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestNamesExpiry(t *testing.T) {
	a := netip.MustParseAddr("93.184.216.34")
	cases := []struct {
		name  string
		grace time.Duration
		ttl   uint32
		at    time.Duration // lookup time relative to the answer
		want  bool
	}{
		{"at answer", time.Minute, 60, 0, true},
		{"within ttl", time.Minute, 60, 30 * time.Second, true},
		{"past ttl within grace", time.Minute, 60, 90 * time.Second, true},
		{"exactly ttl+grace", time.Minute, 60, 120 * time.Second, true},
		{"just past ttl+grace", time.Minute, 60, 120*time.Second + time.Nanosecond, false},
		{"ttl zero within grace", time.Minute, 0, 59 * time.Second, true},
		{"ttl zero past grace", time.Minute, 0, 61 * time.Second, false},
		{"default grace 5m", 0, 10, 5*time.Minute + 10*time.Second, true},
		{"past default grace", 0, 10, 5*time.Minute + 11*time.Second, false},
		{"slightly before answer (reordering)", time.Minute, 60, -500 * time.Millisecond, true},
		{"long before answer", time.Minute, 60, -2 * time.Second, false},
		{"huge ttl", time.Minute, 1 << 31, 24 * time.Hour * 365, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNames(NamesOptions{Grace: c.grace})
			n.Add(a, "example.com", c.ttl, t0)
			name, ok := n.Lookup(a, t0.Add(c.at))
			if ok != c.want {
				t.Fatalf("Lookup ok=%v, want %v", ok, c.want)
			}
			if ok && name != "example.com" {
				t.Errorf("name=%q", name)
			}
			if !ok && name != "" {
				t.Errorf("miss returned name %q", name)
			}
		})
	}
}

func TestNamesAddLookup(t *testing.T) {
	type add struct {
		addr, name string
		ttl        uint32
		at         time.Duration
	}
	cases := []struct {
		name     string
		adds     []add
		lookup   string
		at       time.Duration
		want     string
		wantOK   bool
		wantSize int
	}{
		{"newest answer wins", []add{{"1.2.3.4", "a.example", 300, 0}, {"1.2.3.4", "b.example", 300, time.Second}}, "1.2.3.4", 2 * time.Second, "b.example", true, 1},
		{"newer short ttl replaces older long ttl", []add{{"1.2.3.4", "a.example", 86400, 0}, {"1.2.3.4", "b.example", 1, time.Second}}, "1.2.3.4", time.Hour, "", false, 0}, // the stale entry is removed by the lookup that finds it
		{"mapped add, plain lookup", []add{{"::ffff:1.2.3.4", "m.example", 60, 0}}, "1.2.3.4", 0, "m.example", true, 1},
		{"plain add, mapped lookup", []add{{"1.2.3.4", "p.example", 60, 0}}, "::ffff:1.2.3.4", 0, "p.example", true, 1},
		{"mapped and plain are one entry", []add{{"1.2.3.4", "p.example", 60, 0}, {"::ffff:1.2.3.4", "m.example", 60, 0}}, "1.2.3.4", 0, "m.example", true, 1},
		{"ipv6", []add{{"2001:db8::1", "v6.example", 60, 0}}, "2001:db8::1", 0, "v6.example", true, 1},
		{"other address misses", []add{{"1.2.3.4", "a.example", 60, 0}}, "1.2.3.5", 0, "", false, 1},
		{"empty name ignored", []add{{"1.2.3.4", "", 60, 0}}, "1.2.3.4", 0, "", false, 0},
		{"invalid addr ignored", []add{{"", "x.example", 60, 0}}, "1.2.3.4", 0, "", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNames(NamesOptions{Grace: time.Minute})
			for _, a := range c.adds {
				var addr netip.Addr
				if a.addr != "" {
					addr = netip.MustParseAddr(a.addr)
				}
				n.Add(addr, a.name, a.ttl, t0.Add(a.at))
			}
			name, ok := n.Lookup(netip.MustParseAddr(c.lookup), t0.Add(c.at))
			if name != c.want || ok != c.wantOK {
				t.Errorf("Lookup = %q,%v, want %q,%v", name, ok, c.want, c.wantOK)
			}
			if s := n.Stats(); s.Entries != c.wantSize {
				t.Errorf("Entries=%d, want %d", s.Entries, c.wantSize)
			}
			// Lookup of the zero Addr never panics and misses.
			if _, ok := n.Lookup(netip.Addr{}, t0); ok {
				t.Error("zero Addr hit")
			}
		})
	}
}

func TestNamesEviction(t *testing.T) {
	cases := []struct {
		name        string
		max, adds   int
		wantEvicted uint64
	}{
		{"under cap", 4, 3, 0},
		{"at cap", 4, 4, 0},
		{"over cap", 4, 10, 6},
		{"cap one", 1, 5, 4},
		{"many", 100, 1000, 900},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNames(NamesOptions{MaxEntries: c.max})
			addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}) }
			for i := range c.adds {
				n.Add(addr(i), fmt.Sprintf("h%d.example", i), 3600, t0)
			}
			s := n.Stats()
			wantEntries := min(c.max, c.adds)
			if s.Evicted != c.wantEvicted || s.Entries != wantEntries || s.Added != uint64(c.adds) {
				t.Errorf("Evicted=%d Entries=%d Added=%d, want %d %d %d", s.Evicted, s.Entries, s.Added, c.wantEvicted, wantEntries, c.adds)
			}
			// First in, first out: the oldest are gone, the newest remain.
			for i := range c.adds {
				name, ok := n.Lookup(addr(i), t0)
				wantOK := i >= c.adds-wantEntries
				if ok != wantOK || (ok && name != fmt.Sprintf("h%d.example", i)) {
					t.Errorf("entry %d: %q,%v, want present=%v", i, name, ok, wantOK)
				}
			}
		})
	}
}

func TestNamesRefreshDoesNotEvict(t *testing.T) {
	n := NewNames(NamesOptions{MaxEntries: 2})
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	for i := range 100 {
		n.Add(a, "a.example", 60, t0.Add(time.Duration(i)*time.Second))
		n.Add(b, "b.example", 60, t0.Add(time.Duration(i)*time.Second))
	}
	if s := n.Stats(); s.Evicted != 0 || s.Entries != 2 || s.Added != 200 {
		t.Errorf("Evicted=%d Entries=%d Added=%d, want 0 2 200", s.Evicted, s.Entries, s.Added)
	}
	if len(n.fifo) > 2 {
		t.Errorf("fifo grew to %d on refreshes", len(n.fifo))
	}
}

func TestNamesHitsMisses(t *testing.T) {
	n := NewNames(NamesOptions{Grace: time.Minute})
	a := netip.MustParseAddr("1.2.3.4")
	n.Add(a, "a.example", 60, t0)
	lookups := []struct {
		addr string
		at   time.Duration
	}{
		{"1.2.3.4", 0},                 // hit
		{"1.2.3.4", time.Minute},       // hit
		{"::ffff:1.2.3.4", 0},          // hit
		{"1.2.3.5", 0},                 // miss: unknown
		{"1.2.3.4", 3 * time.Minute},   // miss: stale
		{"1.2.3.4", -10 * time.Second}, // miss: before the answer
	}
	for _, l := range lookups {
		n.Lookup(netip.MustParseAddr(l.addr), t0.Add(l.at))
	}
	s := n.Stats()
	// The stale lookup removes the entry (Expired 1, Entries 0).
	if s.Hits != 3 || s.Misses != 3 || s.Added != 1 || s.Entries != 0 || s.Expired != 1 {
		t.Errorf("Hits=%d Misses=%d Added=%d Entries=%d Expired=%d, want 3 3 1 0 1", s.Hits, s.Misses, s.Added, s.Entries, s.Expired)
	}
}

func TestNamesExpiredStat(t *testing.T) {
	n := NewNames(NamesOptions{Grace: time.Second})
	a := netip.MustParseAddr("1.2.3.4")
	n.Add(a, "a.example", 1, t0)
	n.Lookup(a, t0.Add(time.Hour))
	if s := n.Stats(); s.Expired == 0 {
		t.Errorf("Expired=0 after a lookup of a stale entry")
	}
}

// Run with -race.
func TestNamesConcurrent(t *testing.T) {
	n := NewNames(NamesOptions{MaxEntries: 64, Grace: time.Minute})
	const workers, iters = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range iters {
				a := netip.AddrFrom4([4]byte{10, byte(w), byte(i >> 8), byte(i % 128)})
				n.Add(a, "c.example", 60, t0.Add(time.Duration(i)*time.Millisecond))
			}
		}()
		go func() {
			defer wg.Done()
			for i := range iters {
				a := netip.AddrFrom4([4]byte{10, byte(w), byte(i >> 8), byte(i % 128)})
				if name, ok := n.Lookup(a, t0.Add(time.Duration(i)*time.Millisecond)); ok && name != "c.example" {
					t.Errorf("name %q", name)
					return
				}
				_ = n.Stats()
			}
		}()
	}
	wg.Wait()
	s := n.Stats()
	if s.Added != workers*iters || s.Hits+s.Misses != workers*iters || s.Entries > 64 {
		t.Errorf("Added=%d Hits+Misses=%d Entries=%d", s.Added, s.Hits+s.Misses, s.Entries)
	}
	// Every add either refreshed a present entry or made a new one; each
	// new one is still there or was evicted once.
	if s.Entries != 64 || uint64(s.Entries)+s.Evicted > s.Added {
		t.Errorf("Entries=%d Evicted=%d Added=%d", s.Entries, s.Evicted, s.Added)
	}
}

func TestECHPublicNames(t *testing.T) {
	c := NewNames(NamesOptions{MaxECHPublicNames: 2})
	if !c.IsECHPublicName("cloudflare-ech.com") {
		t.Error("the well-known cloudflare-ech.com is not a public name")
	}
	for _, n := range []string{"", "public.example.net", "secret.example.org"} {
		if c.IsECHPublicName(n) {
			t.Errorf("%q is a public name before any DNS answer", n)
		}
	}
	c.AddECHPublicName("public.example.net")
	c.AddECHPublicName("public.example.net") // a repeat takes no second slot
	c.AddECHPublicName("cover.example.com")
	if !c.IsECHPublicName("public.example.net") || !c.IsECHPublicName("cover.example.com") {
		t.Error("names seen in ECH configs are not public names")
	}
	c.AddECHPublicName("third.example.org") // the set holds 2: the oldest goes
	if c.IsECHPublicName("public.example.net") {
		t.Error("the oldest public name outlived the bound")
	}
	if !c.IsECHPublicName("cover.example.com") || !c.IsECHPublicName("third.example.org") {
		t.Error("the newer public names were forgotten")
	}
	if c.IsECHPublicName("secret.example.org") {
		t.Error("a name never seen in an ECH config is a public name")
	}
}
