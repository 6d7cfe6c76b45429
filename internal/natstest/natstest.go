// Package natstest runs an embedded nats-server with JetStream for tests,
// on a loopback port, and makes what its TLS and NKEY configurations need:
// throwaway CAs and certificates, user NKEYs.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Start runs a nats-server with JetStream on 127.0.0.1:port (a free port
// when 0), storing in dir (a temporary folder when ""). It is shut down at
// the end of the test; Shutdown earlier stops it abruptly (the sensors'
// connections drop), and Start again on the same port and dir brings it
// back with its streams.
func Start(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return StartOptions(t, &server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir})
}

// StartConfig runs a nats-server from a configuration file, on a free
// loopback port and storing in a temporary folder whatever the file says.
func StartConfig(t testing.TB, conf string) *server.Server {
	t.Helper()
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	opts.Host, opts.Port, opts.StoreDir, opts.JetStream = "127.0.0.1", server.RANDOM_PORT, t.TempDir(), true
	return StartOptions(t, opts)
}

// StartOptions runs a nats-server with opts (logging and signals off).
func StartOptions(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	opts.NoSigs, opts.NoLog = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}
