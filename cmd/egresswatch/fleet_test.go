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
	"syscall"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/internal/natstest"
)

// genCapture writes a bench/gen workload of n packets with seed into dir.
func genCapture(t *testing.T, dir string, seed, n int) string {
	t.Helper()
	out := filepath.Join(dir, fmt.Sprintf("gen-%d-%d.pcap", seed, n))
	cmd := exec.Command("go", "run", "../../bench/gen", "-q", "-packets", strconv.Itoa(n), "-seed", strconv.Itoa(seed), "-o", out)
	cmd.Env = goEnv()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bench/gen: %v\n%s", err, b)
	}
	return out
}

// goEnv is the environment for the go command: testcache moved
// XDG_CACHE_HOME, which would give go a cold build cache.
func goEnv() []string {
	env := os.Environ()
	if os.Getenv("GOCACHE") == "" {
		if home, err := os.UserHomeDir(); err == nil {
			if dir := filepath.Join(home, ".cache", "go-build"); dirExists(dir) {
				env = append(env, "GOCACHE="+dir)
			}
		}
	}
	return env
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
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
		if code != 0 || t.Failed() {
			t.Logf("collect: exit %d: %s", code, errb.String())
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
	srv := natstest.Start(t, "", 0)
	dir := t.TempDir()
	caps := []string{"../../testdata/sample/ministry.pcapng", genCapture(t, dir, 2, 20000), genCapture(t, dir, 3, 30000)}
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
	total := 0
	for _, f := range files {
		total += countLines(f)
	}
	waitLines(t, collected, total, 30*time.Second)
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

// slowPipe makes a FIFO in dir and writes src into it in n pieces, pause
// apart: a capture that arrives while the sensor runs.
func slowPipe(t *testing.T, dir, src string, n int, pause time.Duration) string {
	t.Helper()
	fifo := filepath.Join(dir, "slow-"+filepath.Base(src))
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		step := len(data)/n + 1
		for off := 0; off < len(data); off += step {
			if _, err := f.Write(data[off:min(off+step, len(data))]); err != nil {
				return
			}
			time.Sleep(pause)
		}
	}()
	return fifo
}

// revisions returns egresswatch.policy.revision of each alert in path.
func revisions(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	b, _ := os.ReadFile(path)
	for line := range bytes.Lines(b) {
		var a struct {
			Egresswatch struct{ Policy struct{ Revision string } }
		}
		if err := json.Unmarshal(line, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a.Egresswatch.Policy.Revision)
	}
	return out
}

// TestFleetPolicy: a bad policy is not stored (exit 2, file:line:col); a
// sensor on --policy nats: loads the stored revision and takes a new one
// while it runs; each alert names the revision that judged it.
func TestFleetPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet test")
	}
	srv := natstest.Start(t, "", 0)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nrules:\n  - id: x\n    bogus: 1\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"policy", "push", "--nats", srv.ClientURL(), bad}, &out, &errb); code != 2 {
		t.Errorf("push of a bad policy: exit %d, want 2", code)
	}
	if !bytes.Contains(errb.Bytes(), []byte(bad+":4:5: unknown key")) {
		t.Errorf("push of a bad policy: stderr %q lacks file:line:col", errb.String())
	}
	var errb2 bytes.Buffer
	if code := run(context.Background(), []string{"replay", "-q", "--policy", "nats:" + srv.ClientURL(), "../../testdata/sample/ministry.pcapng"}, &out, &errb2); code != 2 {
		t.Errorf("sensor with no policy stored: exit %d, want 2: %s", code, errb2.String())
	}

	good := filepath.Join(dir, "policy.yaml")
	def := new(bytes.Buffer)
	run(context.Background(), []string{"policy", "default"}, def, &errb)
	os.WriteFile(good, def.Bytes(), 0o644)
	push := func(want string) {
		t.Helper()
		var o, e bytes.Buffer
		if code := run(context.Background(), []string{"policy", "push", "--nats", srv.ClientURL(), good}, &o, &e); code != 0 {
			t.Fatalf("push: exit %d: %s", code, e.String())
		}
		if !bytes.Contains(o.Bytes(), []byte("revision "+want)) {
			t.Fatalf("push: %q, want revision %s", o.String(), want)
		}
	}
	push("1")
	capture := slowPipe(t, dir, genCapture(t, dir, 4, 40000), 20, 150*time.Millisecond)
	alerts := filepath.Join(dir, "alerts.jsonl")
	done := make(chan int)
	var serr bytes.Buffer
	go func() {
		done <- run(context.Background(), []string{"replay", "-q", "--workers", "1", "--sensor", "p1", "--alerts", alerts,
			"--policy", "nats:", "--publish", srv.ClientURL(), capture}, &bytes.Buffer{}, &serr)
	}()
	time.Sleep(1200 * time.Millisecond)
	push("2")
	if code := <-done; code != 0 {
		t.Fatalf("sensor: exit %d: %s", code, serr.String())
	}
	revs := revisions(t, alerts)
	first2 := slices.Index(revs, "2")
	if first2 <= 0 || slices.Contains(revs[first2:], "1") || slices.ContainsFunc(revs, func(r string) bool { return r != "1" && r != "2" }) {
		t.Errorf("alerts' policy revisions: want 1s then 2s, got %v", slices.Compact(revs))
	}
	if !bytes.Contains(serr.Bytes(), []byte("fleet policy revision 2 in force")) {
		t.Errorf("sensor did not log the new revision: %s", serr.String())
	}
}
