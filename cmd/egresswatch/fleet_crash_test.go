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

// crashRig is the fleet the crash tests kill parts of: a collector and
// two sensors replaying generated captures that arrive slowly, k1 with a
// spool and k2 holding what awaits the broker in memory. Files and logs
// are in dir.
type crashRig struct {
	dir, collected string
	colArgs        []string
	spool          string
	f1, f1b, f2    string // k1's alerts of its first run and of its restart; k2's
	col, k1, k2    *exec.Cmd
}

// startCrashRig starts the rig on the broker at url: k1 replays a capture
// of 40 000 packets made from seed1, k2 one of 20 000 from seed2, each
// arriving in pieces1 (pieces2) pieces 150 (200) ms apart.
func startCrashRig(t *testing.T, bin, dir, url string, seed1, pieces1, seed2, pieces2 int) *crashRig {
	r := &crashRig{dir: dir, collected: filepath.Join(dir, "fleet-alerts.jsonl"), spool: filepath.Join(dir, "spool"),
		f1: filepath.Join(dir, "k1-run1.jsonl"), f1b: filepath.Join(dir, "k1-run2.jsonl"), f2: filepath.Join(dir, "k2.jsonl")}
	r.colArgs = []string{"collect", "--nats", url, "--alerts", r.collected, "--events", filepath.Join(dir, "fleet-events.jsonl")}
	r.col = start(t, bin, filepath.Join(dir, "collect1.log"), r.colArgs...)
	pipe1 := slowPipe(t, dir, genCapture(t, dir, seed1, 40000), pieces1, 150*time.Millisecond)
	pipe2 := slowPipe(t, dir, genCapture(t, dir, seed2, 20000), pieces2, 200*time.Millisecond)
	r.k1 = start(t, bin, filepath.Join(dir, "k1-run1.log"), "replay", "-q", "--workers", "1", "--sensor", "k1", "--alerts", r.f1,
		"--publish", url, "--spool", r.spool, "--heartbeat", "1s", pipe1)
	r.k2 = start(t, bin, filepath.Join(dir, "k2.log"), "replay", "-q", "--workers", "1", "--sensor", "k2", "--alerts", r.f2,
		"--publish", url, "--heartbeat", "1s", pipe2)
	return r
}

// k1Alerts writes, into one file it returns, k1's alerts of its killed
// run, less the line being written when it was killed (it is lost, in
// the spool too), and of its restart.
func (r *crashRig) k1Alerts(t *testing.T) string {
	both := filepath.Join(r.dir, "k1.jsonl")
	b1, _ := os.ReadFile(r.f1)
	b1 = b1[:bytes.LastIndexByte(b1, '\n')+1]
	b2, _ := os.ReadFile(r.f1b)
	if err := os.WriteFile(both, append(b1, b2...), 0o644); err != nil {
		t.Fatal(err)
	}
	return both
}

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
	r := startCrashRig(t, bin, dir, url, 5, 40, 6, 20)
	col, colArgs, collected, spool, f1, f1b, f2, k1, k2 := r.col, r.colArgs, r.collected, r.spool, r.f1, r.f1b, r.f2, r.k1, r.k2

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

	both := r.k1Alerts(t)
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
