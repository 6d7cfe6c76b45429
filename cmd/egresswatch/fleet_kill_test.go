package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsServer is Debian's nats-server run as a process of its own, on a
// loopback port and a store folder that outlive it, so that a test can
// SIGKILL it and start it again.
type natsServer struct {
	bin, store string
	port       int
	cmd        *exec.Cmd
	exited     chan struct{} // closed when cmd has exited
}

// natsServerBin returns Debian's nats-server, or skips the test.
func natsServerBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server" // /usr/sbin is not on every user's PATH
	}
	t.Skip("needs Debian's nats-server (apt-get install nats-server; `make test` run as root installs it)")
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// start runs the server (again) on its port and store, its output into
// log, and waits until JetStream answers. It is killed at the end of the
// test.
func (s *natsServer) start(t *testing.T, log string) {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(s.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", s.store)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("nats-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		f.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	if err := waitJetStream(s.url(), exited, 30*time.Second); err != nil {
		t.Fatalf("nats-server on port %d: %v\n%s", s.port, err, logOf(log))
	}
}

// kill SIGKILLs the server and waits until it is gone: no shutdown, no
// store flushed, connections cut.
func (s *natsServer) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill nats-server: %v", err)
	}
	<-s.exited
}

// waitJetStream polls url until a client connects and JetStream answers,
// or the server exits, or within is up.
func waitJetStream(url string, exited <-chan struct{}, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		err := jetStreamUp(url)
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func jetStreamUp(url string) error {
	nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.NoReconnect())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// waitFor polls cond every 100 ms until it holds or within is up.
func waitFor(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// TestFleetBrokerSIGKILL is TestFleetCrashes with a real broker: Debian's
// nats-server in a process of its own is SIGKILLed while two sensors send
// captures that arrive slowly (k1 with a spool, k2 holding what is
// unacknowledged in memory) and started again on the same port and store
// three seconds later. During the outage k1 is SIGKILLed too, with alerts
// only its spool holds; once the broker is back the collector is
// SIGKILLed while it reads k2's backlog, and started again; then k1 is
// started again on its spool. The collector's alerts are still, per
// sensor, exactly those the sensor wrote to its files: none lost, none
// twice.
func TestFleetBrokerSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet test")
	}
	natsBin := natsServerBin(t)
	dir := t.TempDir()
	if d := os.Getenv("EGRESSWATCH_KEEP"); d != "" {
		dir = d
	}
	bin := buildBinary(t, dir)
	logs := []string{"nats1.log", "nats2.log", "collect1.log", "collect2.log", "k1-run1.log", "k2.log"}
	var restartLog bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range logs {
				t.Logf("%s:\n%s", l, logOf(filepath.Join(dir, l)))
			}
			t.Logf("k1 restart:\n%s", restartLog.String())
		}
	})

	srv := &natsServer{bin: natsBin, store: filepath.Join(dir, "nats"), port: freePort(t)}
	srv.start(t, filepath.Join(dir, "nats1.log"))
	url := srv.url()
	// The captures arrive over twelve and eight seconds: both sensors are
	// still sending when the broker dies and when it comes back, and k1
	// when it is killed.
	r := startCrashRig(t, bin, dir, url, 7, 80, 8, 40)
	col, colArgs, collected, spool, f1, f1b, f2, k1, k2 := r.col, r.colArgs, r.collected, r.spool, r.f1, r.f1b, r.f2, r.k1, r.k2
	t0 := time.Now()
	since := func() time.Duration { return time.Since(t0).Round(100 * time.Millisecond) }

	// Both sensors' alerts reach the collector: the fleet works.
	if !waitFor(30*time.Second, func() bool {
		got := linesBySensor(t, collected)
		return len(got["k1"]) > 0 && len(got["k2"]) > 0
	}) {
		t.Fatalf("the collector has no alerts of both sensors after 30s: %v", countLines(collected))
	}

	srv.kill(t) // the broker dies while both sensors send
	downAt := time.Now()
	atKill := [2]int{countLines(f1), countLines(f2)}
	t.Logf("%v: broker SIGKILLed with k1 at %d alerts and k2 at %d", since(), atKill[0], atKill[1])

	// The spooled sensor dies too, once it has written alerts the broker
	// cannot have acknowledged: they are in its spool (and its file).
	if !waitFor(15*time.Second, func() bool { return countLines(f1) > atKill[0] }) {
		t.Fatalf("sensor k1 wrote no alert in 15s after the broker died")
	}
	k1.Process.Signal(syscall.SIGKILL)
	if err := k1.Wait(); err == nil {
		t.Fatalf("sensor k1 had finished before it was killed: the capture is too short for this machine")
	}
	t.Logf("%v: k1 SIGKILLed with %d alerts written", since(), countLines(f1))

	time.Sleep(time.Until(downAt.Add(3 * time.Second))) // the outage
	srv.start(t, filepath.Join(dir, "nats2.log"))
	t.Logf("%v: broker back on port %d, k2 at %d alerts", since(), srv.port, countLines(f2))

	// The collector dies while it reads what k2 held in memory.
	sensorLines := func() int { m := linesBySensor(t, collected); return len(m["k1"]) + len(m["k2"]) }
	backAt := sensorLines()
	if !waitFor(30*time.Second, func() bool { return sensorLines() > backAt }) {
		t.Fatalf("the collector wrote no sensor's alert in 30s after the broker came back")
	}
	col.Process.Signal(syscall.SIGKILL)
	col.Wait()
	t.Logf("%v: collector SIGKILLed with %d alerts of the sensors written, %d when the broker came back; restarted",
		since(), sensorLines(), backAt)
	col = start(t, bin, filepath.Join(dir, "collect2.log"), colArgs...)

	// k1 again, on its spool: it sends what the spool held, then a short
	// capture.
	if code := run(context.Background(), []string{"replay", "-q", "--sensor", "k1", "--alerts", f1b, "--publish", url,
		"--spool", spool, "../../testdata/sample/ministry.pcapng"}, &bytes.Buffer{}, &restartLog); code != 0 {
		t.Fatalf("k1 restarted: exit %d", code)
	}
	held := firstLine(restartLog.String(), "of an earlier run to send")
	if held == "" {
		t.Errorf("k1 restarted on its spool found nothing of the killed run to send")
	}
	t.Logf("%v: k1 restarted: %s", since(), held)
	if err := k2.Wait(); err != nil {
		t.Fatalf("k2: %v", err)
	}
	if atKill[1] == 0 || countLines(f2) <= atKill[1] {
		t.Errorf("sensor k2 was not sending across the broker's death: %d alerts at its kill, %d in all", atKill[1], countLines(f2))
	}

	both := r.k1Alerts(t)
	want := map[string]int{"k1": countLines(both), "k2": countLines(f2)}
	if !waitFor(60*time.Second, func() bool {
		got := linesBySensor(t, collected)
		return len(got["k1"]) >= want["k1"] && len(got["k2"]) >= want["k2"]
	}) {
		got := linesBySensor(t, collected)
		t.Errorf("after 60s the collector has %d alerts of k1 and %d of k2, want %d and %d",
			len(got["k1"]), len(got["k2"]), want["k1"], want["k2"])
	}
	col.Process.Signal(syscall.SIGTERM)
	if err := col.Wait(); err != nil {
		t.Errorf("collector after SIGTERM: %v, want exit 0", err)
	}
	sameAlerts(t, collected, map[string]string{"k1": both, "k2": f2})
	t.Logf("%v: alerts: k1 %d (%d before its kill, %d after its restart), k2 %d",
		since(), want["k1"], countLines(f1), countLines(f1b), want["k2"])
	t.Logf("collector: %s", firstLine(logOf(filepath.Join(dir, "collect2.log")), "consumed"))
}

// firstLine returns the first line of text that holds sub ("" if none).
func firstLine(text, sub string) string {
	for line := range strings.Lines(text) {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
