package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/internal/natstest"
)

// buildBinary builds egresswatch into dir, for tests that kill it.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "egresswatch")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = goEnv()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

// start runs the binary with args, its stderr into a file beside log.
func start(t *testing.T, bin, log string, args ...string) *exec.Cmd {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr, cmd.Stdout = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	return cmd
}

func logOf(path string) string { b, _ := os.ReadFile(path); return string(b) }

// TestFleetCrashes: while a sensor sends a capture that arrives slowly,
// the collector is SIGKILLed and restarted, the broker is shut down
// abruptly and brought back two seconds later, and then the sensor is
// SIGKILLed and started again on its spool. The collector's alerts are
// still exactly those the sensor wrote to its files: none lost, none
// twice. A second sensor without a spool rides out the broker's outage
// in memory.
func TestFleetCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet test")
	}
	dir := t.TempDir()
	if d := os.Getenv("EGRESSWATCH_KEEP"); d != "" {
		dir = d
	}
	bin := buildBinary(t, dir)
	store := filepath.Join(dir, "nats")
	srv := natstest.Start(t, store, 0)
	url := srv.ClientURL()
	port := srv.Addr().(*net.TCPAddr).Port
	collected, events := filepath.Join(dir, "fleet-alerts.jsonl"), filepath.Join(dir, "fleet-events.jsonl")
	colArgs := []string{"collect", "--nats", url, "--alerts", collected, "--events", events}
	col := start(t, bin, filepath.Join(dir, "collect1.log"), colArgs...)

	spool := filepath.Join(dir, "spool")
	f1, f1b, f2 := filepath.Join(dir, "k1-run1.jsonl"), filepath.Join(dir, "k1-run2.jsonl"), filepath.Join(dir, "k2.jsonl")
	pipe1 := slowPipe(t, dir, genCapture(t, dir, 5, 40000), 40, 150*time.Millisecond)
	pipe2 := slowPipe(t, dir, genCapture(t, dir, 6, 20000), 20, 200*time.Millisecond)
	k1 := start(t, bin, filepath.Join(dir, "k1-run1.log"), "replay", "-q", "--workers", "1", "--sensor", "k1", "--alerts", f1,
		"--publish", url, "--spool", spool, "--heartbeat", "1s", pipe1)
	k2 := start(t, bin, filepath.Join(dir, "k2.log"), "replay", "-q", "--workers", "1", "--sensor", "k2", "--alerts", f2,
		"--publish", url, "--heartbeat", "1s", pipe2)

	time.Sleep(1500 * time.Millisecond)
	col.Process.Signal(syscall.SIGKILL) // the collector dies mid-batch
	col.Wait()
	col = start(t, bin, filepath.Join(dir, "collect2.log"), colArgs...)

	time.Sleep(1000 * time.Millisecond)
	srv.Shutdown() // the broker goes away while both sensors send
	srv.WaitForShutdown()
	time.Sleep(2 * time.Second)
	srv = natstest.Start(t, store, port)

	time.Sleep(1000 * time.Millisecond)
	k1.Process.Signal(syscall.SIGKILL) // the sensor dies holding its spool
	k1.Wait()
	if countLines(f1) == 0 {
		t.Fatalf("sensor k1 had written no alerts when it was killed: %s", logOf(filepath.Join(dir, "k1-run1.log")))
	}
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"replay", "-q", "--sensor", "k1", "--alerts", f1b, "--publish", url,
		"--spool", spool, "../../testdata/sample/ministry.pcapng"}, &bytes.Buffer{}, &errb); code != 0 {
		t.Fatalf("k1 restarted: exit %d: %s", code, errb.String())
	}
	if err := k2.Wait(); err != nil {
		t.Fatalf("k2: %v: %s", err, logOf(filepath.Join(dir, "k2.log")))
	}

	// k1's file of the killed run, its restart's, and k2's.
	both := filepath.Join(dir, "k1.jsonl")
	b1, _ := os.ReadFile(f1)
	b1 = b1[:bytes.LastIndexByte(b1, '\n')+1] // the line being written when it was killed is lost, in the spool too
	b2, _ := os.ReadFile(f1b)
	os.WriteFile(both, append(b1, b2...), 0o644)
	want := countLines(both) + countLines(f2)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && len(linesBySensor(t, collected)["k1"])+len(linesBySensor(t, collected)["k2"]) < want {
		time.Sleep(200 * time.Millisecond)
	}
	col.Process.Signal(syscall.SIGTERM)
	if err := col.Wait(); err != nil {
		t.Errorf("collector after SIGTERM: %v, want exit 0", err)
	}
	sameAlerts(t, collected, map[string]string{"k1": both, "k2": f2})
	if t.Failed() {
		for _, l := range []string{"collect1.log", "collect2.log", "k1-run1.log", "k2.log"} {
			t.Logf("%s:\n%s", l, logOf(filepath.Join(dir, l)))
		}
		t.Logf("k1 restart:\n%s", errb.String())
	}
}
