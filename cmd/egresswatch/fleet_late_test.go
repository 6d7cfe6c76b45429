package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/internal/natstest"
)

// TestFleetBrokerLate: the broker comes up after the sensors and the
// collector. A sensor without a spool refuses to start, and says why; a
// sensor with one spools, says it waits, and sends everything once the
// broker is there; the collector waits for the broker and then collects
// exactly what the sensor wrote.
func TestFleetBrokerLate(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	const capture = "../../testdata/sample/ministry.pcapng"

	var errb bytes.Buffer
	code := run(context.Background(), []string{"replay", "-q", "--sensor", "nospool", "--alerts", filepath.Join(dir, "x.jsonl"),
		"--publish", url, capture}, &bytes.Buffer{}, &errb)
	if code != 2 || !strings.Contains(errb.String(), "broker not reachable") || !strings.Contains(errb.String(), "--spool") {
		t.Errorf("sensor without a spool, no broker: exit %d, want 2 saying the broker is not reachable and what to do:\n%s", code, errb.String())
	}

	collected := filepath.Join(dir, "fleet.jsonl")
	stop := collector(t, url, "--alerts", collected)
	own := filepath.Join(dir, "late.jsonl")
	var serr lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(context.Background(), []string{"replay", "-q", "--sensor", "late", "--alerts", own, "--publish", url,
			"--spool", filepath.Join(dir, "spool"), "--publish-wait", "60s", capture}, &bytes.Buffer{}, &serr)
	}()
	time.Sleep(2 * time.Second) // the sensor has replayed and waits
	natstest.Start(t, filepath.Join(dir, "nats"), port)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("sensor with a spool: exit %d:\n%s", code, serr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the sensor did not finish once the broker was up:\n%s", serr.String())
	}
	log := serr.String()
	if !strings.Contains(log, "broker not reachable") || strings.Contains(log, "headers not supported") {
		t.Errorf("sensor's log: want it to say once that it waits for the broker, and no send errors:\n%s", log)
	}
	waitLines(t, collected, countLines(own), 30*time.Second)
	if code := stop(); code != 0 {
		t.Errorf("collector: exit %d", code)
	}
	sameAlerts(t, collected, map[string]string{"late": own})
}
