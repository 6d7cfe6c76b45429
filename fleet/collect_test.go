package fleet

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/output"
)

// TestSensorSilentAndDrops: a sensor that stops its heartbeats raises
// sensor-silent within 3 intervals (plus one fetch), not before; a jump
// of kernel drops between two heartbeats raises sensor-drops.
func TestSensorSilentAndDrops(t *testing.T) {
	nc, _ := broker(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	alerts := filepath.Join(t.TempDir(), "alerts.jsonl")
	col, err := NewCollector(ctx, nc, CollectorOptions{Alerts: alerts, Drops: 100})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- col.Run(ctx) }()
	p, err := NewPublisher(nc, PublisherOptions{Observer: &output.Observer{Name: "hb"}})
	if err != nil {
		t.Fatal(err)
	}
	const every = 400 * time.Millisecond
	for i, drops := range []uint64{0, 10, 500} {
		if i > 0 {
			time.Sleep(every)
		}
		p.PublishHealth(EncodeHealth(time.Now(), &output.Observer{Name: "hb"},
			HealthStats{Run: "r", IntervalSeconds: every.Seconds(), KernelDrops: drops}))
	}
	last := time.Now()
	silentAt := time.Time{}
	for time.Since(last) < 3*every+2*time.Second && silentAt.IsZero() {
		time.Sleep(50 * time.Millisecond)
		col.flush()
		if b, _ := os.ReadFile(alerts); bytes.Contains(b, []byte(`"id":"sensor-silent"`)) {
			silentAt = time.Now()
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	col.Close()
	b, _ := os.ReadFile(alerts)
	switch took := silentAt.Sub(last); {
	case silentAt.IsZero():
		t.Fatalf("no sensor-silent alert:\n%s", b)
	case took < 3*every-50*time.Millisecond || took > 3*every+time.Second:
		t.Errorf("sensor-silent %v after the last heartbeat, want just after 3 intervals (%v)", took, 3*every)
	}
	if bytes.Count(b, []byte(`"id":"sensor-drops"`)) != 1 || !bytes.Contains(b, []byte(`"kernel_drops":490`)) {
		t.Errorf("want one sensor-drops alert for 490 drops:\n%s", b)
	}
	sensors := col.Status().Sensors
	if len(sensors) != 1 || !sensors[0].Silent {
		t.Errorf("status: %+v, want hb silent", sensors)
	}
}

// TestCollectEncodings: a compressed pack is written line by line like a
// plain one; a message in an encoding the collector does not know, or
// whose S2 data is corrupt, is counted and skipped, and the messages
// after it are written.
func TestCollectEncodings(t *testing.T) {
	nc, js := broker(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	send := func(id, enc string, data []byte) {
		t.Helper()
		m := nats.NewMsg(Subject("enc", KindAlert))
		m.Data = data
		m.Header.Set(jetstream.MsgIDHeader, id)
		if enc != "" {
			m.Header.Set(ContentEncoding, enc)
		}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	line := func(n int) string { return fmt.Sprintf(`{"event":{"kind":"alert"},"n":%d}`, n) }
	send("enc.r.a.1", "", []byte(line(1)))
	send("enc.r.a.2+2", EncodingS2, s2.Encode(nil, []byte(line(2)+"\n"+line(3))))
	send("enc.r.a.4", "br", []byte("not ours"))
	send("enc.r.a.5", EncodingS2, []byte("\xff\xfenot s2"))
	// A header that claims 4 GiB decoded: refused before any is allocated.
	send("enc.r.a.6", EncodingS2, binary.AppendUvarint(nil, 0xffffffff))
	send("enc.r.a.7", "", []byte(line(7)))

	alerts := filepath.Join(t.TempDir(), "alerts.jsonl")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	col, err := NewCollector(ctx, nc, CollectorOptions{Alerts: alerts, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- col.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for col.Status().Messages[KindAlert] < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	col.Close()
	if runtime.ReadMemStats(&after); after.TotalAlloc-before.TotalAlloc > 1<<30 {
		t.Errorf("the collector allocated %d MiB", (after.TotalAlloc-before.TotalAlloc)>>20)
	}
	b, _ := os.ReadFile(alerts)
	var ns []string
	for l := range bytes.Lines(b) {
		i := bytes.Index(l, []byte(`"n":`))
		if i < 0 {
			t.Fatalf("line without n: %s", l)
		}
		ns = append(ns, string(bytes.TrimRight(l[i+4:], "}\n")))
	}
	if got := strings.Join(ns, ","); got != "1,2,3,7" {
		t.Errorf("written n = %s, want 1,2,3,7\n%s", got, b)
	}
	if st := col.Status(); st.Undecodable != 3 {
		t.Errorf("undecodable %d, want 3", st.Undecodable)
	}
}

// TestCollectorRestartKeepsSensors: a collector that restarts knows the
// sensors from their last heartbeats in the stream: one that fell silent
// while no collector heard it raises sensor-silent on time, once over
// any number of restarts; the first heartbeat a restarted collector takes
// of a run judges drops on what it counts since the sensor's previous one.
func TestCollectorRestartKeepsSensors(t *testing.T) {
	nc, _ := broker(t)
	alerts := filepath.Join(t.TempDir(), "alerts.jsonl")
	// start runs a collector on the same durable consumer and file;
	// stop ends it and returns its status.
	start := func() (col *Collector, stop func() CollectorStatus) {
		ctx, cancel := context.WithCancel(context.Background())
		col, err := NewCollector(ctx, nc, CollectorOptions{Alerts: alerts, Drops: 100, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- col.Run(ctx) }()
		return col, func() CollectorStatus {
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			col.Close()
			return col.Status()
		}
	}
	count := func(rule string) int {
		b, _ := os.ReadFile(alerts)
		return bytes.Count(b, []byte(`"id":"`+rule+`"`))
	}
	p, err := NewPublisher(nc, PublisherOptions{Observer: &output.Observer{Name: "hb"}, Run: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	const every = 400 * time.Millisecond
	beat := func(hs HealthStats) {
		hs.IntervalSeconds = every.Seconds()
		if err := p.PublishHealth(EncodeHealth(time.Now(), &output.Observer{Name: "hb"}, hs)); err != nil {
			t.Fatal(err)
		}
	}

	col, stop := start()
	beat(HealthStats{Run: "r1"})
	beat(HealthStats{Run: "r1"})
	last := time.Now()
	for col.Status().Messages[KindHealth] < 2 && time.Since(last) < 5*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	if st := stop(); st.Messages[KindHealth] != 2 || count("sensor-silent") != 0 {
		t.Fatalf("first collector: %d heartbeats, %d sensor-silent; want 2 and none", st.Messages[KindHealth], count("sensor-silent"))
	}

	// The sensor falls silent while a new collector starts: it consumes
	// no heartbeat (all were acknowledged), yet finds the silence.
	col, stop = start()
	var silentAt time.Time
	for time.Since(last) < 3*every+3*time.Second && silentAt.IsZero() {
		time.Sleep(20 * time.Millisecond)
		col.flush()
		if count("sensor-silent") > 0 {
			silentAt = time.Now()
		}
	}
	st := stop()
	switch took := silentAt.Sub(last); {
	case silentAt.IsZero():
		t.Fatal("the restarted collector raised no sensor-silent")
	case took < 3*every-50*time.Millisecond || took > 3*every+2*time.Second:
		t.Errorf("sensor-silent %v after the last heartbeat, want just after 3 intervals (%v)", took, 3*every)
	}
	if st.Messages[KindHealth] != 0 {
		t.Errorf("the restarted collector consumed %d heartbeats, want 0 (the test would not test seeding)", st.Messages[KindHealth])
	}

	// A third collector reaches the same verdict and writes nothing again,
	// though the alerts file that holds the first was rotated away.
	if err := os.Rename(alerts, alerts+".1"); err != nil {
		t.Fatal(err)
	}
	col, stop = start()
	time.Sleep(1500 * time.Millisecond)
	st = stop()
	if n := count("sensor-silent"); n != 0 {
		t.Errorf("%d sensor-silent alerts after a rotation and another restart, want none", n)
	}
	if len(st.Sensors) != 1 || !st.Sensors[0].Silent {
		t.Errorf("third collector's sensors: %+v, want hb silent", st.Sensors)
	}

	// A new run of the sensor: the collector has no earlier heartbeat of
	// it, and judges drops on the heartbeat's own interval counts.
	col, stop = start()
	beat(HealthStats{Run: "r2", KernelDrops: 5000, KernelDropsInterval: 600, Packets: 9000, PacketsInterval: 700})
	for col.Status().Messages[KindHealth] < 1 && time.Since(last) < 20*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	b, _ := os.ReadFile(alerts)
	if count("sensor-drops") != 1 || !bytes.Contains(b, []byte(`"kernel_drops":600`)) || !bytes.Contains(b, []byte(`"packets":700`)) {
		t.Errorf("want one sensor-drops alert for 600 drops in 700 packets:\n%s", b)
	}
}

// TestOpenRaised: the list of the collector's own alerts marks their ids
// seen; opened with more than raisedKeep it keeps the most recent.
func TestOpenRaised(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl.raised-ids")
	var b strings.Builder
	for i := range raisedKeep + 10 {
		fmt.Fprintf(&b, "fleet.sensor-drops.s1.r1.h.%d\n", i+1)
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	c := &Collector{seen: map[string]*seqSet{}}
	f, err := c.openRaised(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	kept, _ := os.ReadFile(path)
	if n := bytes.Count(kept, []byte{'\n'}); n != raisedKeep || !bytes.HasPrefix(kept, []byte("fleet.sensor-drops.s1.r1.h.11\n")) {
		t.Errorf("kept %d ids, from %q", n, kept[:min(40, len(kept))])
	}
	if c.first("fleet.sensor-drops.s1.r1.h.11") || c.first(fmt.Sprint("fleet.sensor-drops.s1.r1.h.", raisedKeep+10)) {
		t.Error("a listed id is not marked seen")
	}
	if !c.first(fmt.Sprint("fleet.sensor-drops.s1.r1.h.", raisedKeep+11)) {
		t.Error("an id not listed is marked seen")
	}
}
