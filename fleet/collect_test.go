package fleet

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

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
	sensors, _, _, _ := col.Status()
	if len(sensors) != 1 || !sensors[0].Silent {
		t.Errorf("status: %+v, want hb silent", sensors)
	}
}
