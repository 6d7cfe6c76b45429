//go:build linux

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scrape fetches /metrics from inside the client namespace.
func (l *lab) scrape(t *testing.T, addr string) string {
	t.Helper()
	var body []byte
	l.client(t, func() error {
		conn, err := net.DialTimeout("tcp4", addr, 2*time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
		req.Close = true
		if err := req.Write(conn); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err
	})
	return string(body)
}

func metric(t *testing.T, exposition, series string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(exposition)
	if m == nil {
		t.Fatalf("no %s in the exposition", series)
	}
	return m[1]
}

func countRule(t *testing.T, path, rule string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), `"rule":{"id":"`+rule+`"`)
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, p *proc, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; egresswatch says:\n%s", what, p.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLiveLifecycle runs one live process as nobody through a bad and a
// good SIGHUP, and stops it with SIGTERM right after a burst of alerts.
func TestLiveLifecycle(t *testing.T) {
	l := newLab(t)
	bin := binary(t)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	dir := openDir(t)
	pol := writeFile(t, dir, "policy.yaml", policyA)
	alerts := filepath.Join(dir, "alerts.jsonl")
	cloud := filepath.Join(dir, "cloud")
	os.Mkdir(cloud, 0o755)
	const maddr = cliIP + ":9477"
	live := start(t, l.cli, "capturing on", bin, "live", "-i", "c0", "--workers", "2", "--user", "nobody",
		"--policy", pol, "--cloud-dir", cloud, "--alerts", alerts, "--events", filepath.Join(dir, "events.jsonl"),
		"--report", filepath.Join(dir, "report.json"), "--metrics", maddr)

	// Every thread runs as nobody.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", live.cmd.Process.Pid))
	if len(tasks) == 0 {
		t.Fatal("no threads in /proc")
	}
	for _, st := range tasks {
		data, err := os.ReadFile(st)
		if err != nil {
			continue // the thread ended
		}
		for _, key := range []string{"Uid", "Gid"} {
			want := nobody.Uid
			if key == "Gid" {
				want = nobody.Gid
			}
			m := regexp.MustCompile(`(?m)^` + key + `:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$`).FindStringSubmatch(string(data))
			if m == nil || m[1] != want || m[2] != want || m[3] != want || m[4] != want {
				t.Errorf("%s: %s line %q, want all %s", st, key, m, want)
			}
		}
		if !strings.Contains(string(data), "CapEff:\t0000000000000000") {
			t.Errorf("%s: capabilities left after --user", st)
		}
	}

	// A broken policy is rejected and counted; the old one stays.
	writeFile(t, dir, "policy.yaml", "version: 1\nrules:\n  - id: [broken\n")
	live.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, live, "the rejected reload", func() bool { return strings.Contains(live.log(), "reload rejected") })
	if !strings.Contains(live.log(), "policy.yaml:") {
		t.Errorf("the rejection does not name the file and line:\n%s", live.log())
	}
	if v := metric(t, l.scrape(t, maddr), `egresswatch_reloads_total{result="failure"}`); v != "1" {
		t.Errorf("reload failures = %s, want 1", v)
	}
	l.client(t, func() error { return tlsGet(l.names["www.tiktok.com"], "a.tiktok.com") })
	waitFor(t, live, "an alert from the old policy", func() bool { return countRule(t, alerts, "gov-sensitive-app") > 0 })

	// A good one takes effect.
	writeFile(t, dir, "policy.yaml", policyB)
	live.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, live, "the reload", func() bool { return strings.Contains(live.log(), "reloaded: policy") })
	l.client(t, func() error { return tlsGet(l.names["www.tiktok.com"], "b.tiktok.com") })
	waitFor(t, live, "an alert from the new policy", func() bool { return countRule(t, alerts, "tiktok-v2") > 0 })
	old := countRule(t, alerts, "gov-sensitive-app")
	exp := l.scrape(t, maddr)
	if v := metric(t, exp, `egresswatch_reloads_total{result="success"}`); v != "2" {
		t.Errorf("reload successes = %s, want 2 (start and one SIGHUP)", v)
	}
	for _, s := range []string{`egresswatch_kernel_drops_total{interface="c0",ring="0"}`, `egresswatch_kernel_drops_total{interface="c0",ring="1"}`} {
		if v := metric(t, exp, s); v != "0" {
			t.Errorf("%s = %s", s, v)
		}
	}

	// A burst of alerts, then SIGTERM at once: none may be lost.
	const burst = 150
	l.client(t, func() error {
		for i := 0; i < burst; i++ {
			if err := tlsGet(l.names["www.tiktok.com"], fmt.Sprintf("x%d.tiktok.com", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err := live.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, live.log())
	}
	if got := countRule(t, alerts, "tiktok-v2"); got != burst+1 {
		t.Errorf("alerts written after SIGTERM: %d, want %d (one per connection)\n%s", got, burst+1, live.log())
	}
	if got := countRule(t, alerts, "gov-sensitive-app"); got != old {
		t.Errorf("the old policy alerted %d times after the reload", got-old)
	}
	if fi, err := os.Stat(filepath.Join(dir, "report.json")); err != nil || fi.Size() == 0 {
		t.Errorf("no report written at exit: %v", err)
	}
	if !strings.Contains(live.log(), "reloads: 1 in force, 1 rejected") {
		t.Errorf("final summary lacks the reload counts:\n%s", live.log())
	}
}
