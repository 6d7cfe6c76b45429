package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/internal/natstest"
)

// TestFleetTLSNKEY runs the fleet on deploy/nats-fleet-tls-nkey.conf (the
// README's configuration across hosts: TLS with client certificates, NKEY
// users): the admin pushes the policy, a sensor loads it and publishes
// over tls://, the collector (over nats://, upgraded to TLS) collects
// every alert. Then each thing that can be wrong is refused, by name:
// the server's CA unknown, no client certificate, a client certificate
// of another CA, a seed the server does not know, a sensor posing as
// another.
func TestFleetTLSNKEY(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet test")
	}
	dir := t.TempDir()
	ca := natstest.NewCA(t, dir, "ca")
	srvCert, srvKey := ca.Server(t, dir, "server")
	cert, key := ca.Client(t, dir, "client")
	otherCert, otherKey := natstest.NewCA(t, dir, "other-ca").Client(t, dir, "other-client")
	t.Setenv("NATS_TLS_CERT", srvCert)
	t.Setenv("NATS_TLS_KEY", srvKey)
	t.Setenv("NATS_TLS_CA", ca.File)
	seeds := map[string]string{}
	for _, user := range []string{"site-1", "site-2", "collector", "admin"} {
		seed, pub := natstest.NKEY(t, dir, user)
		seeds[user] = seed
		t.Setenv(strings.ToUpper(strings.ReplaceAll(user, "-", ""))+"_NKEY", pub)
	}
	stranger, _ := natstest.NKEY(t, dir, "stranger")
	t.Setenv("NATS_USER", "") // NKEYs only
	t.Setenv("NATS_PASSWORD", "")

	srv := natstest.StartConfig(t, "../../deploy/nats-fleet-tls-nkey.conf")
	_, hostPort, _ := strings.Cut(srv.ClientURL(), "://")
	url, tlsURL := "nats://"+hostPort, "tls://"+hostPort // nats://: the client turns to TLS as the server requires it
	tlsFlags := []string{"--nats-ca", ca.File, "--nats-cert", cert, "--nats-key", key}
	as := func(user string) []string { return append([]string{"--nats-creds", seeds[user]}, tlsFlags...) }

	pol := filepath.Join(dir, "policy.yaml")
	var def, errb bytes.Buffer
	run(context.Background(), []string{"policy", "default"}, &def, &errb)
	if err := os.WriteFile(pol, def.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// policy push also creates the stream: sensors and the collector may not.
	if code := run(context.Background(), append(append([]string{"policy", "push", "--nats", tlsURL}, as("admin")...), pol), &bytes.Buffer{}, &errb); code != 0 {
		t.Fatalf("admin: policy push: exit %d: %s", code, errb.String())
	}
	collected := filepath.Join(dir, "fleet.jsonl")
	stop := collector(t, url, append(as("collector"), "--alerts", collected)...)

	own := filepath.Join(dir, "site-1.jsonl")
	var serr bytes.Buffer
	if code := run(context.Background(), append(append([]string{"replay", "-q", "--sensor", "site-1", "--alerts", own, "--policy", "nats:",
		"--publish", tlsURL}, as("site-1")...), "../../testdata/sample/ministry.pcapng"), &bytes.Buffer{}, &serr); code != 0 {
		t.Fatalf("site-1: exit %d: %s", code, serr.String())
	}
	waitLines(t, collected, countLines(own), 30*time.Second)

	sensor := func(name string, flags ...string) []string { // replay as site-1 with flags
		return append(append([]string{"replay", "-q", "--sensor", "site-1", "--alerts", filepath.Join(dir, name+".jsonl"),
			"--publish", tlsURL}, flags...), "../../testdata/sample/ministry.pcapng")
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string // in stderr
	}{
		{"no-ca", sensor("no-ca", "--nats-creds", seeds["site-1"], "--nats-cert", cert, "--nats-key", key),
			2, []string{"TLS certificate is not trusted", "no CA file given", "certificate signed by unknown authority"}},
		{"no-client-cert", sensor("no-client-cert", "--nats-creds", seeds["site-1"], "--nats-ca", ca.File),
			2, []string{"ended the TLS connection", "client certificate? none was given"}},
		// Go's client does not even offer a certificate of a CA the server does not name.
		{"client-cert-of-other-ca", sensor("client-cert-of-other-ca", "--nats-creds", seeds["site-1"], "--nats-ca", ca.File, "--nats-cert", otherCert, "--nats-key", otherKey),
			2, []string{"ended the TLS connection", "accept the client certificate " + otherCert}},
		{"unknown-seed", sensor("unknown-seed", append([]string{"--nats-creds", stranger}, tlsFlags...)...),
			2, []string{"refused the credentials in " + stranger, "Authorization Violation"}},
		{"posing-as-site-2", sensor("posing-as-site-2", append(as("site-1"), "--sensor", "site-2", "--publish-wait", "2s")...),
			1, []string{"published 0 record(s) (alerts and events) to the fleet as site-2", "did not acknowledge"}},
		{"collect-unknown-seed", append(append([]string{"collect", "--nats", url, "--nats-creds", stranger}, tlsFlags...), "--alerts", filepath.Join(dir, "stranger.jsonl")),
			2, []string{"refused the credentials in " + stranger}},
		{"policy-push-no-client-cert", []string{"policy", "push", "--nats", url, "--nats-creds", seeds["admin"], "--nats-ca", ca.File, pol},
			2, []string{"client certificate? none was given"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errb lockedBuffer // the sensor logs the server's refusals from the connection's goroutine
			code := run(context.Background(), tt.args, &bytes.Buffer{}, &errb)
			missing := slices.DeleteFunc(slices.Clone(tt.want), func(w string) bool { return strings.Contains(errb.String(), w) })
			if code != tt.code || len(missing) > 0 {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, missing, errb.String())
			}
		})
	}
	time.Sleep(time.Second) // anything a refused sensor got through would reach the collector
	stop()
	sameAlerts(t, collected, map[string]string{"site-1": own})
}

// lockedBuffer is a bytes.Buffer that may be written from several
// goroutines, as stderr is.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
