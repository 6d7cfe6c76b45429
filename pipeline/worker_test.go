package pipeline

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/rules"
)

// tcpTestFrame builds an Ethernet/IPv4/TCP frame with gopacket.
func tcpTestFrame(tb testing.TB, src, dst netip.AddrPort, seq uint32, syn, ack bool, payload []byte) []byte {
	tb.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: seq, SYN: syn, ACK: ack, Window: 64240}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// knownFlow returns a Worker, built as Run builds it, that has seen a TCP
// connection whose both directions carried an unrecognised protocol, and
// two bulk data frames of that flow (one per direction).
func knownFlow(tb testing.TB, events *bytes.Buffer) (*Worker, []capture.Frame) {
	tb.Helper()
	cfg := Config{}
	if events != nil {
		cfg.Events = events
	}
	w := newWorker(&cfg, nil, cfg.budget(1).flowsPerWorker)
	c := netip.MustParseAddrPort("192.0.2.10:49152")
	s := netip.MustParseAddrPort("203.0.113.7:443")
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	fr := func(seq uint64, data []byte) capture.Frame {
		return capture.Frame{Data: data, Time: t0.Add(time.Duration(seq) * time.Millisecond), WireLen: len(data),
			LinkType: layers.LinkTypeEthernet, Seq: seq, Path: "bulk"}
	}
	bulk := bytes.Repeat([]byte("\x00\x01\x02\x03"), 300)
	for i, data := range [][]byte{
		tcpTestFrame(tb, c, s, 100, true, false, nil),
		tcpTestFrame(tb, s, c, 900, true, true, nil),
		tcpTestFrame(tb, c, s, 101, false, true, []byte("\x00\x00\x00\x08hello, server")),
		tcpTestFrame(tb, s, c, 901, false, true, []byte("\x00\x00\x00\x02ok")),
	} {
		w.Handle(fr(uint64(i+1), data), uint64(i+1))
	}
	if w.flows.Len() != 1 {
		tb.Fatalf("%d flows after setup; want 1", w.flows.Len())
	}
	return w, []capture.Frame{
		fr(5, tcpTestFrame(tb, c, s, 200, false, true, bulk)),
		fr(5, tcpTestFrame(tb, s, c, 1000, false, true, bulk)),
	}
}

// TestWorkerBulkAllocs guards the hot path: a data packet of a known flow
// goes through decode, flow lookup and the Done check without allocating.
func TestWorkerBulkAllocs(t *testing.T) {
	var events bytes.Buffer
	w, bulk := knownFlow(t, &events)
	const runs = 500
	for i, fr := range bulk {
		if n := testing.AllocsPerRun(runs, func() { w.Handle(fr, 5) }); n != 0 {
			t.Errorf("bulk frame %d: Handle allocates %.1f times per frame; want 0", i, n)
		}
	}
	// The bulk frames were accounted to the one flow: AllocsPerRun calls
	// the function runs+1 times.
	w.out.reset()
	w.flush(6)
	var ends []message
	for _, m := range w.out.msgs {
		if m.step == stepEnd {
			ends = append(ends, m)
		}
	}
	if len(ends) != 1 {
		t.Fatalf("%d flow ends; want the one flow", len(ends))
	}
	expect(t, "source.packets", float64(ends[0].meta.Packets[0]), 2+runs+1)
	expect(t, "destination.packets", float64(ends[0].meta.Packets[1]), 2+runs+1)
	expect(t, "flows created", w.flows.Stats.Flows, uint64(1))
}

func BenchmarkWorkerHandleBulk(b *testing.B) {
	w, bulk := knownFlow(b, nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(bulk[0].Data)))
	i := 0
	for b.Loop() {
		w.Handle(bulk[i&1], 5)
		i++
	}
}

// BenchmarkWorkerMix runs the first 200 000 frames of a benchmark mix
// (bench/gen; the file named by $EGRESSWATCH_BENCH_MIX) through one worker
// as replay builds it (events encoded, policy settle records), a fresh
// worker each round: the worker's share of a replay, without the reader
// and the merger.
//
//	EGRESSWATCH_BENCH_MIX=$PWD/out/bench/mix-1000000.pcap go test -run '^$' -bench WorkerMix ./pipeline/
func BenchmarkWorkerMix(b *testing.B) {
	path := os.Getenv("EGRESSWATCH_BENCH_MIX")
	if path == "" {
		b.Skip("EGRESSWATCH_BENCH_MIX names no capture (make one with bench/gen)")
	}
	src, err := capture.OpenAll([]string{path})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	// The frames lie one after another, as in a batch.
	var frames []capture.Frame
	var data []byte
	for len(frames) < 200000 {
		fr, err := src.Next()
		if err != nil {
			break
		}
		data = append(data, fr.Data...)
		frames = append(frames, fr)
	}
	off := 0
	for i := range frames {
		l := len(frames[i].Data)
		frames[i].Data = data[off : off+l : off+l]
		off += l
	}
	cfg := Config{Events: io.Discard, Policy: &rules.Policy{}}
	const batchFrames = 4096
	var batches []*batch
	for start := 0; start < len(frames); start += batchFrames {
		bt := &batch{frames: frames[start:min(start+batchFrames, len(frames))], first: uint64(start + 1)}
		for _, fr := range bt.frames {
			bt.clock = append(bt.clock, fr.Time)
		}
		bt.last = bt.clock[len(bt.clock)-1]
		batches = append(batches, bt)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		w := newWorker(&cfg, nil, cfg.budget(1).flowsPerWorker)
		b.StartTimer()
		for _, bt := range batches {
			w.out.reset()
			w.handleFrames(bt, 0)
			w.advance(bt.last, bt.first+uint64(len(bt.frames)))
		}
		w.flush(uint64(len(frames) + 1))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/frame")
}
