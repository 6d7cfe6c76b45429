package fleet

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/internal/natstest"
	"github.com/egresswatch/egresswatch/output"
)

// TestPublishOnce: every line put is stored once, under its sensor's
// subject, with its Nats-Msg-Id; lines cut across writes are whole.
func TestPublishOnce(t *testing.T) {
	s := natstest.Start(t, "", 0)
	nc := connect(t, s.ClientURL())
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := EnsureStream(ctx, js); err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(nc, PublisherOptions{Observer: &output.Observer{Name: "s1"}, Run: "r1", Window: 64})
	if err != nil {
		t.Fatal(err)
	}
	go p.Run()
	w := p.Writer(KindAlert, nil)
	const n = 1000
	for i := range n {
		line := fmt.Sprintf(`{"@timestamp":"x","event":{"kind":"alert"},"n":%d}`+"\n", i)
		w.Write([]byte(line[:7])) // a line cut by a buffer boundary
		w.Write([]byte(line[7:]))
	}
	if err := p.Close(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	st, _ := js.Stream(ctx, Stream)
	info, _ := st.Info(ctx)
	if info.State.Msgs != n {
		t.Fatalf("stream holds %d messages, want %d", info.State.Msgs, n)
	}
	m, err := st.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "egresswatch.s1.alert" || m.Header.Get(jetstream.MsgIDHeader) != "s1.r1.a.1" || string(m.Data) != `{"@timestamp":"x","event":{"kind":"alert"},"n":0}` {
		t.Errorf("first message: %s %v %s", m.Subject, m.Header, m.Data)
	}
}
