package fleet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/internal/natstest"
	"github.com/egresswatch/egresswatch/output"
)

// TestSensorSilentAndDrops: a sensor that stops its heartbeats raises
// sensor-silent within 3 intervals (plus one fetch), not before; a jump
// of kernel drops between two heartbeats raises sensor-drops.
func TestSensorSilentAndDrops(t *testing.T) {
	s := natstest.Start(t, "", 0)
	nc := connect(t, s.ClientURL())
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := EnsureStream(ctx, js); err != nil {
		t.Fatal(err)
	}
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
	s := natstest.Start(t, "", 0)
	nc := connect(t, s.ClientURL())
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := EnsureStream(ctx, js); err != nil {
		t.Fatal(err)
	}
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
	send("enc.r.a.6", "", []byte(line(6)))

	alerts := filepath.Join(t.TempDir(), "alerts.jsonl")
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
	b, _ := os.ReadFile(alerts)
	var ns []string
	for l := range bytes.Lines(b) {
		i := bytes.Index(l, []byte(`"n":`))
		if i < 0 {
			t.Fatalf("line without n: %s", l)
		}
		ns = append(ns, string(bytes.TrimRight(l[i+4:], "}\n")))
	}
	if got := strings.Join(ns, ","); got != "1,2,3,6" {
		t.Errorf("written n = %s, want 1,2,3,6\n%s", got, b)
	}
	if st := col.Status(); st.Undecodable != 2 {
		t.Errorf("undecodable %d, want 2", st.Undecodable)
	}
}
