package fleet

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/internal/natstest"
	"github.com/egresswatch/egresswatch/output"
)

// TestBrokerRestart: a broker shut down while a publisher sends, and
// started again, holds every message once, in order; with plain messages
// (resent from the queue) and compressed ones (resent from the packs kept).
func TestBrokerRestart(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) { brokerRestart(t, compress) })
	}
}

func brokerRestart(t *testing.T, compress bool) {
	store := t.TempDir()
	srv := natstest.Start(t, store, 0)
	port := srv.Addr().(*net.TCPAddr).Port
	nc := connect(t, srv.ClientURL())
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := EnsureStream(ctx, js); err != nil {
		t.Fatal(err)
	}
	p, _ := NewPublisher(nc, PublisherOptions{Observer: &output.Observer{Name: "b"}, Run: "r", Compress: compress, Logf: t.Logf})
	go p.Run()
	const n = 40000
	go func() {
		for i := range n {
			p.Put(KindAlert, fmt.Appendf(nil, `{"n":%d}`, i))
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	srv.Shutdown()
	srv.WaitForShutdown()
	t.Logf("acked at shutdown: %d", p.Acked())
	time.Sleep(time.Second)
	srv = natstest.Start(t, store, port)
	for p.Acked() < n {
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.Close(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, Stream)
	if err != nil {
		t.Fatal(err)
	}
	lines := streamLines(t, st)
	if len(lines) != n {
		t.Errorf("stream holds %d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		if want := fmt.Sprintf(`{"n":%d}`, i); l.data != want {
			t.Fatalf("line %d is %s, want %s (each once, in order)", i, l.data, want)
		}
	}
}
