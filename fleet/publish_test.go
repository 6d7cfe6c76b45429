package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/internal/natstest"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
)

// TestPublishOnce: every line put is stored once, under its sensor's
// subject, with its Nats-Msg-Id; lines cut across writes are whole;
// compressed, the broker stores a fraction of the bytes.
func TestPublishOnce(t *testing.T) {
	var stored [2]uint64
	for i, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			stored[i] = publishOnce(t, compress)
		})
	}
	if stored[1]*3 > stored[0] {
		t.Errorf("the stream holds %d bytes compressed and %d plain: want under a third", stored[1], stored[0])
	}
}

func publishOnce(t *testing.T, compress bool) (storedBytes uint64) {
	s := natstest.Start(t, "", 0)
	nc := connect(t, s.ClientURL())
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := EnsureStream(ctx, js); err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(nc, PublisherOptions{Observer: &output.Observer{Name: "s1"}, Run: "r1", Window: 64, Compress: compress})
	if err != nil {
		t.Fatal(err)
	}
	go p.Run()
	w := p.Writer(KindAlert, nil)
	const n = 1000
	for i := range n {
		line := fmt.Sprintf(`{"@timestamp":"x","event":{"kind":"alert"},"message":"Device 10.0.0.%d contacted 192.0.2.1, placed in CO","n":%d}`+"\n", i%250, i)
		w.Write([]byte(line[:7])) // a line cut by a buffer boundary
		w.Write([]byte(line[7:]))
	}
	if err := p.Close(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	st, _ := js.Stream(ctx, Stream)
	lines := streamLines(t, st)
	if len(lines) != n {
		t.Fatalf("stream holds %d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		want := fmt.Sprintf(`{"@timestamp":"x","event":{"kind":"alert"},"message":"Device 10.0.0.%d contacted 192.0.2.1, placed in CO","n":%d}`, i%250, i)
		if l.subject != "egresswatch.s1.alert" || l.id != fmt.Sprint("s1.r1.a.", i+1) || l.data != want {
			t.Fatalf("line %d: %s %s %s, want %s", i, l.subject, l.id, l.data, want)
		}
	}
	info, _ := st.Info(ctx)
	return info.State.Bytes
}

type streamLine struct{ subject, id, data string }

// streamLines returns every line the stream holds, in order, with the id
// the collector gives it (the pack's id and the line's index).
func streamLines(t testing.TB, st jetstream.Stream) []streamLine {
	t.Helper()
	ctx := context.Background()
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []streamLine
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		stream, first, n, ok := ParsePackID(m.Header.Get(jetstream.MsgIDHeader))
		data := m.Data
		if m.Header.Get(ContentEncoding) == EncodingS2 {
			if data, err = s2.Decode(nil, data); err != nil {
				t.Fatalf("message %d: %v", seq, err)
			}
		}
		parts := strings.Split(string(data), "\n")
		if !ok || len(parts) != n {
			t.Fatalf("message %d: id %q with %d lines", seq, m.Header.Get(jetstream.MsgIDHeader), len(parts))
		}
		for i, p := range parts {
			out = append(out, streamLine{m.Subject, fmt.Sprint(stream, ".", first+uint64(i)), p})
		}
	}
	return out
}

// TestReportFlowLine: the hand-built residency line is valid JSON that
// reads back into Residency, with the observer.
func TestReportFlowLine(t *testing.T) {
	p := &Publisher{opt: PublisherOptions{Observer: &output.Observer{Name: "s1", Version: "v"}}, sensor: "s1"}
	q := newMemQueue(10)
	p.q[KindEvent] = q
	p.wake = make(chan struct{}, 1)
	t0 := time.Date(2025, 3, 11, 9, 0, 0, 5, time.UTC)
	p.ReportFlow(report.FlowSummary{Groups: []string{"gov", `a"b`}, Service: "tiktok", Country: "SG", Reason: "anycast",
		Indeterminate: true, Dst: netip.MustParseAddr("192.0.2.1"), Name: "x.example", Device: netip.MustParseAddr("10.0.0.1"),
		Bytes: 7, Packets: 2, First: t0, Last: t0.Add(time.Second)})
	got, _ := q.Peek(nil, 0, 1)
	var r Residency
	if err := json.Unmarshal(got[0].Data, &r); err != nil {
		t.Fatalf("%v: %s", err, got[0].Data)
	}
	e := r.Egresswatch
	if r.Event.Dataset != DatasetResidency || !r.Event.Start.Equal(t0) || r.Source.IP != "10.0.0.1" || r.Destination.Domain != "x.example" ||
		r.Network.Bytes != 7 || e.Service != "tiktok" || e.Country != "SG" || !e.Indeterminate || e.Reason != "anycast" ||
		len(e.Group) != 2 || e.Group[1] != `a"b` || !bytes.Contains(r.Observer, []byte(`"name":"s1"`)) {
		t.Errorf("read back: %+v\n%s", r, got[0].Data)
	}
}

// TestPutOversize: a record too large for a message is not queued (it
// would be sent and refused forever); it is counted and logged.
func TestPutOversize(t *testing.T) {
	var logged []string
	p := &Publisher{opt: PublisherOptions{Observer: &output.Observer{Name: "s1"},
		Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }}, sensor: "s1"}
	p.q[KindAlert], p.q[KindEvent] = newMemQueue(10), newMemQueue(10)
	p.wake = make(chan struct{}, 1)
	if err := p.Put(KindAlert, bytes.Repeat([]byte("x"), maxRecord+1)); err != nil {
		t.Fatal(err)
	}
	if err := p.Put(KindAlert, []byte(`{"ok":1}`)); err != nil {
		t.Fatal(err)
	}
	if a, _ := p.Pending(); a != 1 || p.Dropped() != 1 || len(logged) != 1 {
		t.Errorf("pending %d, dropped %d, logged %q: want 1, 1 and one line", a, p.Dropped(), logged)
	}
}

// TestPackBytes: a pack's records, compressed however badly, fit the
// broker's max_payload with room for the headers; the bound is the
// largest that does (or 1 MiB).
func TestPackBytes(t *testing.T) {
	for _, payload := range []int64{0, 8 << 10, 64 << 10, 256 << 10, 1 << 20, 8 << 20} {
		for _, compress := range []bool{false, true} {
			n := packBytes(payload, compress)
			room := int(payload) - 4<<10
			if payload == 0 {
				room = 1<<20 - 4<<10
			}
			size := func(n int) int {
				if compress {
					return s2.MaxEncodedLen(n)
				}
				return n
			}
			if n < 1 || n > 1<<20 || size(n) > room || (n < 1<<20 && size(n+1) <= room) {
				t.Errorf("packBytes(%d, %v) = %d (%d bytes sent at most, %d room)", payload, compress, n, size(n), room)
			}
		}
	}
}

// TestPublishSmallMaxPayload: with a broker whose max_payload is 64 KiB,
// records that S2 cannot shrink still go in packs that it accepts.
func TestPublishSmallMaxPayload(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			s := natstest.StartOptions(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
				StoreDir: t.TempDir(), MaxPayload: 64 << 10})
			nc := connect(t, s.ClientURL())
			js, _ := jetstream.New(nc)
			ctx := context.Background()
			if _, err := EnsureStream(ctx, js); err != nil {
				t.Fatal(err)
			}
			p, err := NewPublisher(nc, PublisherOptions{Observer: &output.Observer{Name: "s1"}, Run: "r1", Compress: compress})
			if err != nil {
				t.Fatal(err)
			}
			go p.Run()
			rnd := rand.New(rand.NewPCG(1, 2))
			var want []string
			for i := range 300 {
				noise := make([]byte, 3000) // random: S2 keeps its size
				for j := range noise {
					noise[j] = byte(rnd.Uint32())
				}
				line := fmt.Sprintf(`{"n":%d,"noise":"%x"}`, i, noise)
				want = append(want, line)
				if err := p.Put(KindAlert, []byte(line)); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Close(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			st, _ := js.Stream(ctx, Stream)
			lines := streamLines(t, st)
			info, _ := st.Info(ctx)
			if len(lines) != len(want) || info.State.Msgs < 2 || info.State.Msgs >= uint64(len(want)) {
				t.Fatalf("%d lines in %d messages, want %d in packs", len(lines), info.State.Msgs, len(want))
			}
			for i, l := range lines {
				if l.data != want[i] {
					t.Fatalf("line %d differs", i)
				}
			}
		})
	}
}

// TestPutFullPack: the sender is told once a full pack has gathered, so
// it need not wait out coalesceWait while the queue grows.
func TestPutFullPack(t *testing.T) {
	p := &Publisher{opt: PublisherOptions{Observer: &output.Observer{Name: "s1"}}, sensor: "s1"}
	p.q[KindAlert], p.q[KindEvent] = newMemQueue(1<<20), newMemQueue(1<<20)
	p.wake, p.got = make(chan struct{}, 1), make(chan struct{}, 1)
	line := bytes.Repeat([]byte("x"), 1023)
	for range fullPack/1024 - 1 {
		p.Put(KindAlert, line)
	}
	if len(p.got) != 0 {
		t.Fatalf("told before a full pack (%d bytes of %d)", p.gathered.Load(), fullPack)
	}
	p.Put(KindEvent, line)
	p.Put(KindEvent, line)
	if len(p.got) != 1 {
		t.Fatalf("not told at %d bytes of %d", p.gathered.Load(), fullPack)
	}
}
