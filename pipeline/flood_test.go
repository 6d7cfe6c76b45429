package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/rules"
)

// sliceSource replays frames held in memory.
type sliceSource struct {
	frames []capture.Frame
	i      int
}

func (s *sliceSource) Next() (capture.Frame, error) {
	if s.i >= len(s.frames) {
		return capture.Frame{}, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}

func (s *sliceSource) Close() error { return nil }

// names returns "dataset name" for each DNS, TLS and HTTP event.
func observedNames(t *testing.T, events []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(events))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		switch ds := str(m, "event.dataset"); ds {
		case "egresswatch.dns":
			out = append(out, ds+" "+str(m, "dns.question.name"))
		case "egresswatch.tls":
			out = append(out, ds+" "+str(m, "tls.client.server_name"))
		case "egresswatch.http":
			out = append(out, ds+" "+str(m, "url.domain"))
		case "egresswatch.flow":
			if d := str(m, "destination.domain"); d != "" {
				out = append(out, ds+" "+d+" "+str(m, "egresswatch.name_source"))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestFloodKeepsOrdinaryFlows mixes the sample capture's traffic into a
// flood of SYNs from distinct sources, under a memory budget whose flow
// table holds about 70 flows per worker: after every packet of the sample
// that is not itself a first packet (a SYN, a DNS question) comes a burst
// of 460 SYNs, several times the table. Plain oldest-first eviction would
// throw out the sample's connections in every burst; the table evicts
// embryonic flows (one side silent) first, so the flood evicts itself, the
// evictions are counted, and the ordinary flows give exactly the names
// they give alone, including the flow named only by passive DNS.
func TestFloodKeepsOrdinaryFlows(t *testing.T) {
	src, err := capture.OpenFile("../testdata/sample/ministry.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var sample []capture.Frame
	for {
		fr, err := src.Next()
		if err != nil {
			break
		}
		fr.Data = append([]byte(nil), fr.Data...)
		sample = append(sample, fr)
	}
	src.Close()

	run := func(frames []capture.Frame) ([]string, Summary) {
		var ev bytes.Buffer
		s, err := Run(context.Background(), &sliceSource{frames: frames}, Config{Events: &ev, Memory: 1 << 20, Workers: 2, BatchFrames: 256})
		if err != nil {
			t.Fatal(err)
		}
		return observedNames(t, ev.Bytes()), s
	}
	want, _ := run(sample)

	const flood = 40000 // 460 per burst
	dst := netip.MustParseAddrPort("198.51.100.80:443")
	var mixed []capture.Frame
	per := flood / len(sample)
	n := 0
	dec := classify.NewDecoder(classify.Options{})
	var p classify.Packet
	for _, fr := range sample {
		mixed = append(mixed, fr)
		dec.Decode(fr, &p)
		opening := p.TCPFlags&(classify.FlagSYN|classify.FlagACK) == classify.FlagSYN ||
			(p.Key.Proto == flow.UDP && p.Key.Dst.Port() == 53)
		for k := 0; k < per && !opening; k++ {
			n++
			a := netip.AddrFrom4([4]byte{100, 64, byte(n >> 8), byte(n)})
			data := tcpTestFrame(t, netip.AddrPortFrom(a, uint16(1024+n%60000)), dst, uint32(n), true, false, nil)
			mixed = append(mixed, capture.Frame{Data: data, Time: fr.Time, WireLen: len(data), LinkType: fr.LinkType, Seq: uint64(len(mixed) + 1)})
		}
	}
	got, sum := run(mixed)
	if sum.Flows.Evicted == 0 {
		t.Fatalf("no flow evicted under the flood (%d flows): the budget did not bite", sum.Flows.Flows)
	}
	if !slices.Equal(got, want) {
		t.Errorf("names under the flood differ:\ngot  %q\nwant %q", got, want)
	}
	t.Logf("%d flood SYNs mixed in; %d flows, %d evicted; %d names kept", n, sum.Flows.Flows, sum.Flows.Evicted, len(want))
}

// TestSuppressionCapFromMemory: the table of open suppression windows is
// sized from Config.Memory like the other tables, and a full table
// closes its oldest window early and counts it.
func TestSuppressionCapFromMemory(t *testing.T) {
	pol, err := rules.DefaultWith()
	if err != nil {
		t.Fatal(err)
	}
	const mem = 16 << 20
	e := New(Config{Memory: mem, Policy: pol, Workers: 1})
	want := mem * 6 / 100 / bytesPerSuppressKey
	j := e.merger.judge
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range want + 5 {
		// A government device (10/8 in the default policy) looks up TikTok:
		// one alert, one window per device.
		dev := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		var st rules.FlowJudging
		if a := j.DNSQuery(&st, &rules.Input{Time: t0, Src: dev, Name: "www.tiktok.com", NameSource: flow.NameDNS}); len(a) == 0 {
			t.Fatalf("device %v: no alert", dev)
		}
	}
	if s := j.Stats(); s.SuppressWindows != want || s.SuppressEvicted != 5 {
		t.Fatalf("open windows %d, evicted %d; want %d and 5 (cap from %d MiB)", s.SuppressWindows, s.SuppressEvicted, want, mem>>20)
	}
	e.publish()
	if s := e.Snapshot(); s.Judge.SuppressWindows != want || s.Judge.SuppressEvicted != 5 {
		t.Fatalf("snapshot: windows %d evicted %d", s.Judge.SuppressWindows, s.Judge.SuppressEvicted)
	}
}
