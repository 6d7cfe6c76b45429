package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/internal/natstest"
)

// TestFleetPermissions runs the fleet on deploy/nats-fleet.conf (the
// README's configuration): the admin pushes the policy, a sensor loads it
// and publishes under its own subject, the collector consumes; a sensor
// that tries another's subject gets nothing stored.
func TestFleetPermissions(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet test")
	}
	for _, v := range []string{"SITE1_PASSWORD", "SITE2_PASSWORD", "SITE3_PASSWORD", "COLLECTOR_PASSWORD", "ADMIN_PASSWORD"} {
		t.Setenv(v, "pw-"+v)
	}
	srv := natstest.StartConfig(t, "../../deploy/nats-fleet.conf")
	url := srv.ClientURL()
	dir := t.TempDir()
	envOf := map[string]string{"site-1": "SITE1_PASSWORD", "collector": "COLLECTOR_PASSWORD", "admin": "ADMIN_PASSWORD"}
	as := func(user string) {
		t.Setenv("NATS_USER", user)
		t.Setenv("NATS_PASSWORD", "pw-"+envOf[user])
	}

	as("admin")
	pol := filepath.Join(dir, "policy.yaml")
	var def, errb bytes.Buffer
	run(context.Background(), []string{"policy", "default"}, &def, &errb)
	os.WriteFile(pol, def.Bytes(), 0o644)
	// policy push also creates the stream: sensors and the collector may not.
	if code := run(context.Background(), []string{"policy", "push", "--nats", url, pol}, &bytes.Buffer{}, &errb); code != 0 {
		t.Fatalf("admin: policy push: exit %d: %s", code, errb.String())
	}
	as("collector")
	collected := filepath.Join(dir, "fleet.jsonl")
	stop := collector(t, url, "--alerts", collected)
	time.Sleep(time.Second) // it reads $NATS_USER and $NATS_PASSWORD as it starts

	as("site-1")
	own := filepath.Join(dir, "site-1.jsonl")
	var serr bytes.Buffer
	if code := run(context.Background(), []string{"replay", "-q", "--sensor", "site-1", "--alerts", own, "--policy", "nats:",
		"--publish", url, "../../testdata/sample/ministry.pcapng"}, &bytes.Buffer{}, &serr); code != 0 {
		t.Fatalf("site-1: exit %d: %s", code, serr.String())
	}
	serr.Reset()
	if code := run(context.Background(), []string{"replay", "-q", "--sensor", "site-2", "--alerts", filepath.Join(dir, "spoof.jsonl"),
		"--publish", url, "--publish-wait", "2s", "../../testdata/sample/ministry.pcapng"}, &bytes.Buffer{}, &serr); code != 1 ||
		!bytes.Contains(serr.Bytes(), []byte("did not acknowledge")) {
		t.Errorf("site-1 posing as site-2: exit %d, want 1 with nothing acknowledged: %s", code, serr.String())
	}
	time.Sleep(3 * time.Second)
	stop()
	sameAlerts(t, collected, map[string]string{"site-1": own})
}
