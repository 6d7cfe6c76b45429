package fleet

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/egresswatch/egresswatch/internal/natstest"
)

// TestConnectTLSNKEY: Conn.Connect against a server that requires TLS
// (no client certificates) and an NKEY user: what connects, and what is
// refused, with a message that names what failed.
func TestConnectTLSNKEY(t *testing.T) {
	dir := t.TempDir()
	ca := natstest.NewCA(t, dir, "ca")
	cert, key := ca.Server(t, dir, "server")
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cert, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	seed, pub := natstest.NKEY(t, dir, "sensor")
	stranger, _ := natstest.NKEY(t, dir, "stranger")
	srv := natstest.StartOptions(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT,
		TLS: true, TLSConfig: tc, TLSTimeout: 5, Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	_, hostPort, _ := strings.Cut(srv.ClientURL(), "://")

	renamed := filepath.Join(dir, "sensor.seed") // a seed by any other name
	b, _ := os.ReadFile(seed)
	notSeed := filepath.Join(dir, "garbage.nk")
	os.WriteFile(renamed, b, 0o600)
	os.WriteFile(notSeed, []byte("not a seed\n"), 0o600)

	for _, tt := range []struct {
		name string
		c    Conn
		want []string // in the error; none: connected
	}{
		{"tls-url-ca-only", Conn{URL: "tls://" + hostPort, CA: ca.File, Creds: seed}, nil},
		{"nats-url-upgraded", Conn{URL: "nats://" + hostPort, CA: ca.File, Creds: seed}, nil},
		{"seed-not-named-nk", Conn{URL: "tls://" + hostPort, CA: ca.File, Creds: renamed}, nil},
		{"no-ca", Conn{URL: "tls://" + hostPort, Creds: seed},
			[]string{"TLS certificate is not trusted (checked against the system's CAs: no CA file given)", "certificate signed by unknown authority"}},
		{"other-ca", Conn{URL: "tls://" + hostPort, CA: natstest.NewCA(t, dir, "other-ca").File, Creds: seed},
			[]string{"checked against the CA file " + filepath.Join(dir, "other-ca.pem"), "certificate signed by unknown authority"}},
		{"no-credentials", Conn{URL: "tls://" + hostPort, CA: ca.File}, []string{"the server wants credentials, and none were given"}},
		{"unknown-seed", Conn{URL: "tls://" + hostPort, CA: ca.File, Creds: stranger}, []string{"the server refused the credentials in " + stranger}},
		{"not-a-seed", Conn{URL: "tls://" + hostPort, CA: ca.File, Creds: notSeed}, []string{"not a .creds file, and not an NKEY user seed"}},
		{"no-creds-file", Conn{URL: "tls://" + hostPort, CA: ca.File, Creds: filepath.Join(dir, "absent.nk")}, []string{"absent.nk: no such file"}},
		{"cert-without-key", Conn{URL: "tls://" + hostPort, CA: ca.File, Creds: seed, Cert: cert}, []string{"needs both its certificate and its key file"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := tt.c.Connect(nil)
			if err == nil {
				defer nc.Close()
			}
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Connect: %v", err)
			case tt.want == nil && !nc.IsConnected():
				t.Fatalf("Connect: %v, want connected", nc.Status())
			case tt.want != nil && err == nil:
				t.Fatalf("Connect: connected, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Connect: %v\nwant %q in it", err, w)
				}
			}
		})
	}
}

// TestConnectBrokerAway: a broker that is not there is no error; the
// connection keeps trying (a sensor starts before its broker).
func TestConnectBrokerAway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	nc, err := Conn{URL: "nats://" + addr}.Connect(nil)
	if err != nil {
		t.Fatalf("Connect to a broker that is away: %v, want a connection that keeps trying", err)
	}
	defer nc.Close()
	if !nc.IsReconnecting() {
		t.Errorf("Connect to a broker that is away: %v, want reconnecting", nc.Status())
	}
}

func TestRedacted(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://site-1:s3cret@10.0.0.1:4222", "nats://site-1:xxxxx@10.0.0.1:4222"},
		{"nats://a:p1@h1:4222,tls://b:p2@h2:4222", "nats://a:xxxxx@h1:4222,tls://b:xxxxx@h2:4222"},
		{"nats://s3cret-token@h:4222", "nats://xxxxx@h:4222"},
	} {
		if got := Redacted(tt.in); got != tt.want {
			t.Errorf("Redacted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
