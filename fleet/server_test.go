package fleet

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/egresswatch/egresswatch/internal/natstest"
)

func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := Conn{URL: url}.Connect(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// broker starts an embedded nats-server with the fleet's stream and
// returns a connection to it.
func broker(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	s := natstest.Start(t, "", 0)
	nc := connect(t, s.ClientURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureStream(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	return nc, js
}
