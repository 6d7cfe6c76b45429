package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func putN(t *testing.T, q queue, k Kind, from, n int, size int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		data := fmt.Appendf(nil, `{"n":%d,"pad":"%*s"}`, i, size, "")
		if err := q.Put(Msg{Kind: k, Stream: "s.r." + k.String()[:1], Seq: uint64(i), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSpoolReopen: what was not acknowledged survives a restart (here, a
// close without ack, and a torn record at the end), in order.
func TestSpoolReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, 64<<20, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	q := s.queue(KindAlert)
	putN(t, q, KindAlert, 1, 1000, 100)
	got, _ := q.Peek(nil, 0, 300)
	if len(got) != 300 || got[0].ID() != "s.r.a.1" {
		t.Fatalf("peek: %d messages, first %q", len(got), got[0].ID())
	}
	q.Ack(got[299].Num + 1)
	s.q[KindAlert].writeCursor() // as the cursor stands after its interval
	s.q[KindAlert].bw.Flush()    // as a SIGKILL leaves it: written, not closed
	segs, _ := filepath.Glob(filepath.Join(dir, "alert", "*.seg"))
	f, _ := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{200, 0, 0, 0, 1, 2}) // a torn record
	f.Close()

	s2, err := OpenSpool(dir, 64<<20, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	q2 := s2.queue(KindAlert)
	if q2.Len() != 700 {
		t.Fatalf("reopened: %d messages, want 700", q2.Len())
	}
	for want := 301; want <= 1000; {
		got, err := q2.Peek(nil, 0, 128)
		if err != nil || len(got) == 0 {
			t.Fatalf("peek at %d: %v", want, err)
		}
		for _, m := range got {
			if m.ID() != fmt.Sprintf("s.r.a.%d", want) {
				t.Fatalf("got %s, want s.r.a.%d", m.ID(), want)
			}
			want++
		}
		q2.Ack(got[len(got)-1].Num + 1)
	}
	putN(t, q2, KindAlert, 1001, 5, 10)
	if got, _ := q2.Peek(nil, 0, 10); len(got) != 5 || got[0].ID() != "s.r.a.1001" {
		t.Errorf("after draining: %d, %v", len(got), got)
	}
	s2.Close()
}

// TestSpoolCap: at the cap events are dropped first, then the oldest
// alerts; every drop is counted.
func TestSpoolCap(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), 1<<20, nil) // 64 KiB segments
	if err != nil {
		t.Fatal(err)
	}
	a, e := s.queue(KindAlert), s.queue(KindEvent)
	putN(t, a, KindAlert, 1, 2000, 200) // ~0.45 MiB
	putN(t, e, KindEvent, 1, 4000, 200) // over the cap: events go
	if a.Len() != 2000 {
		t.Errorf("alerts: %d, want all 2000 kept while events are dropped", a.Len())
	}
	if d := s.Dropped(); d == 0 || int(d)+e.Len() != 4000 {
		t.Errorf("dropped %d, events left %d: want them to add up to 4000", d, e.Len())
	}
	putN(t, a, KindAlert, 2001, 4000, 200) // alerts alone over the cap
	if e.Len() != 0 {
		t.Errorf("events left %d, want 0 before alerts go", e.Len())
	}
	if int(s.Dropped())+a.Len()+e.Len() != 10000 || s.size() > 1<<20 {
		t.Errorf("dropped %d + alerts %d + events %d != 10000, size %d", s.Dropped(), a.Len(), e.Len(), s.size())
	}
	got, _ := a.Peek(nil, 0, 1)
	if got[0].ID() == "s.r.a.1" {
		t.Errorf("oldest alert kept at the cap")
	}
	s.Close()
}

// TestSpoolCapReclaimsAcknowledged: acknowledged records still on disk
// (the segment being written) are given back before any unacknowledged
// one is dropped, and the spool never takes more disk than its cap.
func TestSpoolCapReclaimsAcknowledged(t *testing.T) {
	const capBytes = 256 << 10 // 64 KiB segments
	s, err := OpenSpool(t.TempDir(), capBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, e := s.queue(KindAlert), s.queue(KindEvent)
	putN(t, a, KindAlert, 1, 200, 250) // ~55 KiB, in the segment being written
	got, _ := a.Peek(nil, 0, 200)
	if err := a.Ack(got[len(got)-1].Num + 1); err != nil {
		t.Fatal(err)
	}
	if s.size() == 0 {
		t.Fatal("the acknowledged alerts left no segment on disk: the test does not test reclaiming")
	}
	for i := 1; i <= 800; i++ { // ~210 KiB of events: fits once the alerts' segment is gone
		putN(t, e, KindEvent, i, 1, 250)
		if s.size() > capBytes {
			t.Fatalf("after event %d the spool takes %d bytes, over its cap %d", i, s.size(), capBytes)
		}
	}
	if d := s.Dropped(); d != 0 {
		t.Errorf("dropped %d events while acknowledged alerts held the space", d)
	}
	if e.Len() != 800 {
		t.Errorf("events queued %d, want 800", e.Len())
	}
	putN(t, a, KindAlert, 201, 1, 250) // the alerts' queue still works after its segment was reclaimed
	if got, _ := a.Peek(nil, 0, 10); len(got) != 1 || got[0].ID() != "s.r.a.201" {
		t.Errorf("after reclaiming: %d alerts, %v", len(got), got)
	}
}
