//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/outfile"
)

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
