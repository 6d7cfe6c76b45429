package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/internal/natstest"
)

// genCapture writes a bench/gen workload of n packets with seed into dir.
func genCapture(t *testing.T, dir string, seed, n int) string {
	t.Helper()
	out := filepath.Join(dir, fmt.Sprintf("gen-%d-%d.pcap", seed, n))
	cmd := exec.Command("go", "run", "../../bench/gen", "-q", "-packets", strconv.Itoa(n), "-seed", strconv.Itoa(seed), "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bench/gen: %v\n%s", err, b)
	}
	return out
}

// eventID is the event.id the collector adds to each line.
var eventID = regexp.MustCompile(`"event":\{"id":"[^"]*",`)

// linesBySensor reads an alerts file into lines by observer.name, without
// the collector's event.id, sorted; the collector's own alerts are left
// out.
func linesBySensor(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := eventID.ReplaceAllString(sc.Text(), `"event":{`)
		var ev struct {
			Observer struct{ Name, Type string }
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%s: %v: %s", path, err, line)
		}
		if ev.Observer.Type == "collector" {
			continue
		}
		out[ev.Observer.Name] = append(out[ev.Observer.Name], line)
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}

// countLines counts the lines of a file (0 when it is missing).
func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte{'\n'})
}

// waitLines waits until path holds want lines from sensors (or fails).
func waitLines(t *testing.T, path string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if countLines(path) >= want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %d lines after %v, want %d", path, countLines(path), within, want)
}

// sameAlerts checks that the collector wrote exactly what each sensor
// wrote to its own file.
func sameAlerts(t *testing.T, collected string, sensors map[string]string) {
	t.Helper()
	got := linesBySensor(t, collected)
	for name, file := range sensors {
		want := linesBySensor(t, file)[name]
		if len(want) == 0 {
			t.Errorf("sensor %s wrote no alerts", name)
		}
		if !slices.Equal(got[name], want) {
			t.Errorf("sensor %s: collector has %d alerts, the sensor wrote %d (or they differ)", name, len(got[name]), len(want))
		}
	}
	if len(got) != len(sensors) {
		t.Errorf("collector has alerts of %d sensors, want %d", len(got), len(sensors))
	}
}

// collector runs egresswatch collect in the test's process until stop is
// called.
func collector(t *testing.T, url string, args ...string) (stop func() int) {
	ctx, cancel := context.WithCancel(context.Background())
	var code int
	var errb bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		code = run(ctx, append([]string{"collect", "--nats", url}, args...), &bytes.Buffer{}, &errb)
	}()
	return func() int {
		cancel()
		<-done
		if code != 0 {
			t.Logf("collect: %s", errb.String())
		}
		return code
	}
}

// TestFleetThreeSensors: three sensors replaying different captures at
// once; the collector's alerts are, per observer.name, exactly those each
// sensor wrote to its own file.
func TestFleetThreeSensors(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet test")
	}
	t0 := time.Now()
	srv := natstest.Start(t, "", 0)
	dir := t.TempDir()
	caps := []string{"../../testdata/sample/ministry.pcapng", genCapture(t, dir, 2, 20000), genCapture(t, dir, 3, 30000)}
	t.Logf("captures made %v", time.Since(t0))
	collected := filepath.Join(dir, "fleet-alerts.jsonl")
	stop := collector(t, srv.ClientURL(), "--alerts", collected, "--events", filepath.Join(dir, "fleet-events.jsonl"),
		"--report", filepath.Join(dir, "fleet.md"))
	files := map[string]string{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, c := range caps {
		name := fmt.Sprintf("site-%d", i+1)
		file := filepath.Join(dir, name+".jsonl")
		files[name] = file
		wg.Add(1)
		go func() {
			defer wg.Done()
			var errb bytes.Buffer
			code := run(context.Background(), []string{"replay", "-q", "--progress", "never", "--workers", "1",
				"--sensor", name, "--alerts", file, "--publish", srv.ClientURL(), c}, &bytes.Buffer{}, &errb)
			if code != 0 {
				mu.Lock()
				t.Errorf("sensor %s: exit %d: %s", name, code, errb.String())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("sensors done %v", time.Since(t0))
	total := 0
	for _, f := range files {
		total += countLines(f)
	}
	waitLines(t, collected, total, 30*time.Second)
	t.Logf("collected %v", time.Since(t0))
	if code := stop(); code != 0 {
		t.Errorf("collect: exit %d, want 0", code)
	}
	sameAlerts(t, collected, files)
	rep, _ := os.ReadFile(filepath.Join(dir, "fleet.md"))
	for name := range files {
		if !bytes.Contains(rep, []byte("| "+name+" / ")) {
			t.Errorf("fleet report has no rows of %s", name)
		}
	}
}
