package rules

import (
	"net/netip"
	"testing"
	"time"
)

func TestSuppressor(t *testing.T) {
	t0 := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	k1 := SuppressKey{Rule: "r", Device: netip.MustParseAddr("10.0.0.1"), Service: "tiktok", Country: "US"}
	k2 := k1
	k2.Country = "SG"
	s := NewSuppressor(10 * time.Minute)

	var closed []Summary
	steps := []struct {
		key     SuppressKey
		sec     int
		emit    bool
		nClosed int
		closedN uint64
	}{
		{k1, 0, true, 0, 0},
		{k1, 1, false, 0, 0},
		{k2, 2, true, 0, 0},
		{k1, 599, false, 0, 0},
		{k1, 600, true, 1, 2}, // k1's window [0,600) closes with 2 suppressed
		{k2, 650, true, 0, 0}, // k2's window closes with nothing suppressed: no summary
		{k2, 651, false, 0, 0},
	}
	for i, st := range steps {
		var emit bool
		emit, closed = s.Admit(st.key, at(st.sec), closed[:0])
		if emit != st.emit || len(closed) != st.nClosed {
			t.Fatalf("step %d: emit %v closed %d, want %v %d", i, emit, len(closed), st.emit, st.nClosed)
		}
		if st.nClosed == 1 {
			c := closed[0]
			if c.Key != k1 || c.Suppressed != st.closedN || !c.First.Equal(at(0)) || !c.Last.Equal(at(599)) || c.Evicted {
				t.Errorf("step %d: summary %+v", i, c)
			}
		}
	}
	if got := s.Expire(at(1249), nil); len(got) != 0 {
		t.Errorf("Expire before windows end = %+v", got)
	}
	got := s.Expire(at(1250), nil) // k2's window [650,1250) ends; k1's [600,1200) ended too, nothing suppressed
	if len(got) != 1 || got[0].Key != k2 || got[0].Suppressed != 1 {
		t.Errorf("Expire = %+v, want k2 with 1", got)
	}
	if s.Len() != 0 {
		t.Errorf("Len = %d after Expire, want 0", s.Len())
	}
}

func TestSuppressorFlushAndEvict(t *testing.T) {
	t0 := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	s := NewSuppressorCap(time.Hour, 3)
	key := func(i int) SuppressKey {
		return SuppressKey{Rule: "r", Device: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})}
	}
	var closed []Summary
	for i := range 3 {
		for j := range i + 1 { // key i admitted i+1 times: i suppressed
			_, closed = s.Admit(key(i), t0.Add(time.Duration(i*10+j)*time.Second), closed)
		}
	}
	if len(closed) != 0 {
		t.Fatalf("closed early: %+v", closed)
	}
	// A fourth key evicts the oldest (key 0, nothing suppressed: no summary).
	emit, closed := s.Admit(key(3), t0.Add(time.Minute), nil)
	if !emit || len(closed) != 0 || s.Evicted() != 1 || s.Len() != 3 {
		t.Fatalf("evict key 0: emit %v closed %+v evicted %d len %d", emit, closed, s.Evicted(), s.Len())
	}
	// A fifth evicts key 1, which had 1 suppressed.
	_, closed = s.Admit(key(4), t0.Add(2*time.Minute), nil)
	if len(closed) != 1 || closed[0].Key != key(1) || closed[0].Suppressed != 1 || !closed[0].Evicted {
		t.Fatalf("evict key 1: %+v", closed)
	}
	_, _ = s.Admit(key(4), t0.Add(3*time.Minute), nil)
	_, _ = s.Admit(key(4), t0.Add(4*time.Minute), nil)
	got := s.Flush(nil)
	if len(got) != 2 || got[0].Key != key(2) || got[0].Suppressed != 2 || got[1].Key != key(4) || got[1].Suppressed != 2 {
		t.Errorf("Flush = %+v, want key 2 (2) then key 4 (2)", got)
	}
	if s.Len() != 0 || s.Evicted() != 2 {
		t.Errorf("after Flush: Len %d Evicted %d", s.Len(), s.Evicted())
	}
}

func TestSuppressorDisabled(t *testing.T) {
	s := NewSuppressor(0)
	for range 3 {
		if emit, closed := s.Admit(SuppressKey{Rule: "r"}, time.Unix(0, 0), nil); !emit || len(closed) != 0 {
			t.Fatalf("window 0: emit %v closed %v", emit, closed)
		}
	}
}

func BenchmarkSuppressorAdmit(b *testing.B) {
	s := NewSuppressor(10 * time.Minute)
	k := SuppressKey{Rule: "gov-outside-approved", Device: netip.MustParseAddr("10.0.0.1"), Service: "tiktok", Country: "US"}
	t0 := time.Unix(1700000000, 0)
	b.ReportAllocs()
	for b.Loop() {
		s.Admit(k, t0, nil)
	}
}
