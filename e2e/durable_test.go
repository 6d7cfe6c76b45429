//go:build linux

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/egresswatch/egresswatch/internal/netnstest"
	"github.com/egresswatch/egresswatch/outfile"
)

// durableCapture has 29 alerts under the built-in policy in 699 packets.
const durableCapture = "ndpi-sites.pcapng"

// wholeLines counts the lines of path, failing t unless each is whole
// JSON; a missing file has none.
func wholeLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return countJSON(t, path, f)
}

func countJSON(t *testing.T, path string, r io.Reader) int {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("%s line %d is not whole JSON: %q", path, n+1, sc.Text())
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

// settled waits until path has stopped growing for 1 s (the flows the
// replay left are judged and written) and returns its line count.
func settled(t *testing.T, p *proc, path string) int {
	t.Helper()
	last, since := -1, time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		st, _ := os.Stat(path)
		n := 0
		if st != nil {
			n = int(st.Size())
		}
		if n != last {
			last, since = n, time.Now()
		} else if n > 0 && time.Since(since) > time.Second {
			return wholeLines(t, path)
		}
	}
	t.Fatalf("%s never settled; egresswatch says:\n%s", path, p.log())
	return 0
}

// summaryCount reads "N <what>" from the end-of-run summary.
func summaryCount(t *testing.T, p *proc, re string) int {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(p.log())
	if m == nil {
		t.Fatalf("no %q in the summary:\n%s", re, p.log())
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

type durableLab struct {
	ns      *netnstest.NS
	bin     string
	capture string
}

func newDurableLab(t *testing.T) *durableLab {
	netnstest.Require(t, "tcpreplay")
	capture := filepath.Join("../../shared/pcaps", durableCapture)
	if _, err := os.Stat(capture); err != nil {
		t.Skipf("%s absent", capture)
	}
	l := &durableLab{ns: netnstest.New(t, "du"), bin: binary(t), capture: capture}
	netnstest.Veth(t, l.ns, "d0", "", l.ns, "d1", "")
	for _, ifc := range []string{"d0", "d1"} {
		l.ns.SetMTU(t, ifc, 9000)
		l.ns.NoOffload(t, ifc)
	}
	return l
}

// play sends the capture onto the veth and returns the packets sent.
func (l *durableLab) play(t *testing.T, loops int) int {
	t.Helper()
	out, err := l.ns.Command("tcpreplay", "-i", "d0", "--pps", "2000", "--loop", strconv.Itoa(loops), l.capture).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpreplay: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Successful packets:\s+(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("tcpreplay: no count:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (l *durableLab) live(t *testing.T, args ...string) *proc {
	t.Helper()
	return start(t, l.ns, "capturing on", l.bin, append([]string{"live", "-i", "d1", "--workers", "2"}, args...)...)
}

// TestLiveKillRestartRotate: a sensor SIGKILLed keeps every alert it
// wrote, and its restart on the same files appends; logrotate's rename
// then SIGHUP splits the output with nothing lost.
func TestLiveKillRestartRotate(t *testing.T) {
	l := newDurableLab(t)
	dir := openDir(t)
	alerts, events := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "events.jsonl")
	args := []string{"--alerts", alerts, "--events", events, "--report", filepath.Join(dir, "report.json"),
		"--state", filepath.Join(dir, "state"), "--checkpoint-every", "200ms"}

	p := l.live(t, args...)
	l.play(t, 1)
	first := settled(t, p, alerts)
	p.cmd.Process.Kill()
	<-p.done
	if first == 0 {
		t.Fatalf("no alerts in the first run:\n%s", p.log())
	}

	p = l.live(t, args...)
	evFirst := wholeLines(t, events)
	if n := wholeLines(t, alerts); n != first {
		t.Fatalf("after the restart %d alerts, want the first run's %d", n, first)
	}
	l.play(t, 1)
	before := settled(t, p, alerts) - first
	// logrotate: rename, then HUP.
	os.Rename(alerts, alerts+".1")
	os.Rename(events, events+".1")
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, p, "the reload", func() bool { return strings.Contains(p.log(), "reloaded: policy") })
	l.play(t, 1)
	settled(t, p, events)
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("live: %v\n%s", err, p.log())
	}
	// The lines each output took (alerts and suppression summaries).
	written := summaryCount(t, p, `output alerts: (\d+) lines`)
	evWritten := summaryCount(t, p, `output events: (\d+) lines`)
	old, cur := wholeLines(t, alerts+".1"), wholeLines(t, alerts)
	evOld, evCur := wholeLines(t, events+".1"), wholeLines(t, events)
	t.Logf("alerts: first run %d (killed); second run %d before the rotation; old file %d, new file %d; the second process wrote %d", first, before, old, cur, written)
	t.Logf("events: old file %d, new file %d; the process wrote %d", evOld, evCur, evWritten)
	// Repeats of the same alerts are suppressed after the rotation; a
	// flow of before it may still end (and alert) after it.
	if old < first+before || old+cur != first+written {
		t.Errorf("alerts: old file %d (want at least %d+%d), new file %d; the second run wrote %d", old, first, before, cur, written)
	}
	if evOld+evCur != evFirst+evWritten || evCur == 0 {
		t.Errorf("events: old file %d, new %d; want the first run's %d and the second run's %d", evOld, evCur, evFirst, evWritten)
	}
}

// TestLiveDiskFull: the outputs live on a full 4 MiB tmpfs. Capture
// goes on, the errors are counted, and the alerts held in memory are
// written once space is freed.
func TestLiveDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	l := newDurableLab(t)
	dir := openDir(t)
	full := filepath.Join(dir, "full")
	os.Mkdir(full, 0o755)
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(full, syscall.MNT_DETACH) })
	alerts, events := filepath.Join(full, "alerts.jsonl"), filepath.Join(full, "events.jsonl")
	p := l.live(t, "--alerts", alerts, "--events", events)
	filler := filepath.Join(full, "filler")
	os.WriteFile(filler, make([]byte, 4<<20), 0o644) // short write: the disk is full
	sent := l.play(t, 3)
	waitFor(t, p, "the write error", func() bool { return strings.Contains(p.log(), "no space left on device; holding") })
	os.Remove(filler)
	waitFor(t, p, "writing again", func() bool { return strings.Contains(p.log(), "again after") })
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("live: %v\n%s", err, p.log())
	}
	if !strings.Contains(p.log(), fmt.Sprintf(" %d packets in", sent)) {
		t.Errorf("tcpreplay sent %d packets; live:\n%s", sent, p.log())
	}
	written := summaryCount(t, p, `output alerts: (\d+) lines`)
	if n := wholeLines(t, alerts); n != written || n == 0 {
		t.Errorf("%d alerts in the file, the process wrote %d", n, written)
	}
	if n := summaryCount(t, p, `(\d+) alerts written`); n == 0 || n > written {
		t.Errorf("%d alerts written, %d lines", n, written)
	}
	evWritten := summaryCount(t, p, `events written (\d+)`)
	if n := wholeLines(t, events); n != evWritten {
		t.Errorf("%d events in the file, the process wrote %d", n, evWritten)
	}
	m := regexp.MustCompile(`output (\w+): \d+ lines, \d+ rotations, \d+ reopens, (\d+) write errors, (\d+) lines dropped`).FindAllStringSubmatch(p.log(), -1)
	if len(m) == 0 {
		t.Fatalf("no output error counts:\n%s", p.log())
	}
	for _, o := range m {
		if o[3] != "0" {
			t.Errorf("output %s dropped %s lines within the queue's bound", o[1], o[3])
		}
	}
	t.Logf("%v", m)
}

// zstdLines counts the whole JSON lines of a file, zstd-compressed or not.
func zstdLines(t *testing.T, path string) int {
	t.Helper()
	if !strings.HasSuffix(path, ".zst") {
		return wholeLines(t, path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return countJSON(t, path, d)
}

// TestSoakRotation (EGRESSWATCH_SOAK=1; EGRESSWATCH_SOAK_DURATION, default
// 10m): a live sensor under an endless tcpreplay loop, rotating every
// minute. RSS and open descriptors are sampled; at the end every line the
// outputs took is in the rotated files and the current one.
func TestSoakRotation(t *testing.T) {
	if os.Getenv("EGRESSWATCH_SOAK") != "1" {
		t.Skip("set EGRESSWATCH_SOAK=1 to run the soak test")
	}
	dur := 10 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("EGRESSWATCH_SOAK_DURATION")); err == nil {
		dur = d
	}
	l := newDurableLab(t)
	dir := openDir(t)
	alerts, events := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "events.jsonl")
	p := l.live(t, "--alerts", alerts, "--events", events, "--report", filepath.Join(dir, "report.json"),
		"--state", filepath.Join(dir, "state"), "--rotate-every", "1m", "--report-every", "1m", "--summary-every", "0")
	replay := l.ns.Command("tcpreplay", "-i", "d0", "--pps", "1000", "--loop", "0", l.capture)
	if err := replay.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { replay.Process.Kill(); replay.Wait() }()

	pid := p.cmd.Process.Pid
	// p.cmd is "ip netns exec": the sensor is its child (exec replaces
	// it, so the pid is the sensor's).
	type sample struct {
		at      time.Duration
		rssKiB  int
		fds     int
		rotated int
	}
	var samples []sample
	start := time.Now()
	for time.Since(start) < dur {
		time.Sleep(30 * time.Second)
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatalf("sensor gone: %v\n%s", err, p.log())
		}
		m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(status)
		rss, _ := strconv.Atoi(string(m[1]))
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		samples = append(samples, sample{time.Since(start).Round(time.Second), rss, len(fds), len(outfile.Rotated(events))})
	}
	replay.Process.Kill()
	replay.Wait()
	time.Sleep(2 * time.Second)
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("live: %v\n%s", err, p.log())
	}
	var rows []string
	for _, s := range samples {
		rows = append(rows, fmt.Sprintf("%6s rss %6d KiB fds %3d rotated %d", s.at, s.rssKiB, s.fds, s.rotated))
	}
	t.Logf("samples:\n%s", strings.Join(rows, "\n"))
	for _, out := range []struct{ name, path string }{{"alerts", alerts}, {"events", events}} {
		took := summaryCount(t, p, `output `+out.name+`: (\d+) lines`)
		got := 0
		files := append(outfile.Rotated(out.path), out.path)
		for _, f := range files {
			got += zstdLines(t, f)
		}
		t.Logf("%s: %d lines taken, %d in %d files", out.name, took, got, len(files))
		if got != took {
			t.Errorf("%s: %d lines taken, %d in the files", out.name, took, got)
		}
	}
	if m := regexp.MustCompile(`(\d+) lines dropped`).FindAllStringSubmatch(p.log(), -1); len(m) == 0 {
		t.Errorf("no output summary:\n%s", p.log())
	} else {
		for _, x := range m {
			if x[1] != "0" {
				t.Errorf("lines dropped: %s", x[0])
			}
		}
	}
	first, last := samples[min(2, len(samples)-1)], samples[len(samples)-1]
	if last.fds > first.fds+2 {
		t.Errorf("fds grew from %d to %d", first.fds, last.fds)
	}
	if last.rssKiB > first.rssKiB*3/2+10<<10 {
		t.Errorf("RSS grew from %d to %d KiB", first.rssKiB, last.rssKiB)
	}
}
