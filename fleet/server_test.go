package fleet

import (
	"testing"

	"github.com/nats-io/nats.go"
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
