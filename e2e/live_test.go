//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveEqualsTcpdump: egresswatch live on c0 and tcpdump on c0 watch
// the same client session; the replay of tcpdump's file must give the
// same events and alerts (frame numbers and times aside).
func TestLiveEqualsTcpdump(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			l := newLab(t)
			bin := binary(t)
			dir := openDir(t)
			pol := writeFile(t, dir, "policy.yaml", policyA)
			pcap := filepath.Join(dir, "c0.pcap")
			common := []string{"--policy", pol, "--cloud-dir", dir, "--workers", fmt.Sprint(workers)}

			td := start(t, l.cli, "listening on", "tcpdump", "-i", "c0", "-n", "--immediate-mode", "-U", "-s", "0", "--time-stamp-precision=nano", "-w", pcap)
			live := start(t, l.cli, "capturing on", bin, append([]string{"live", "-i", "c0",
				"--events", filepath.Join(dir, "live.events"), "--alerts", filepath.Join(dir, "live.alerts")}, common...)...)
			l.traffic(t)
			time.Sleep(300 * time.Millisecond)
			if err := live.stop(t, syscall.SIGTERM); err != nil {
				t.Fatalf("live: %v\n%s", err, live.log())
			}
			td.stop(t, syscall.SIGTERM)

			out, err := exec.Command(bin, append([]string{"replay", "--events", filepath.Join(dir, "replay.events"),
				"--alerts", filepath.Join(dir, "replay.alerts"), "--progress", "never", "-q"}, append(common, pcap)...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("replay: %v\n%s", err, out)
			}
			if fi, err := os.Stat(pcap); err != nil || fi.Size() < 1000 {
				t.Fatalf("tcpdump wrote no capture (%v):\n%s", err, td.log())
			}
			for _, kind := range []string{"events", "alerts"} {
				got, want := lines(t, filepath.Join(dir, "live."+kind)), lines(t, filepath.Join(dir, "replay."+kind))
				// The placement data's age is taken from its files' times, and
				// this test's data folder is also where the outputs go: the
				// replay, a moment later, may see it a second older.
				got, want = withoutDataAge(got), withoutDataAge(want)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s: live %d lines, replay of tcpdump %d:\n%s", kind, len(got), len(want), diff(got, want))
				}
			}
			// And the session is really in there.
			ev := strings.Join(lines(t, filepath.Join(dir, "live.events")), "\n")
			for _, want := range []string{
				`"server_name":"www.tiktok.com"`, `"server_name":"api.example.test"`,
				`"domain":"portal.gov.test"`, `"name":"tcp.example.test"`,
				`"domain":"plain.example.test","ip":"10.77.0.14"`,
			} {
				if !strings.Contains(ev, want) {
					t.Errorf("live events lack %s", want)
				}
			}
			al := strings.Join(lines(t, filepath.Join(dir, "live.alerts")), "\n")
			for _, want := range []string{`"id":"gov-sensitive-app"`, `"id":"gov-outside-approved"`} {
				if !strings.Contains(al, want) {
					t.Errorf("live alerts lack %s", want)
				}
			}
		})
	}
}

var dataAge = regexp.MustCompile(`"placement_data_age_sec":-?[0-9]+,?`)

// withoutDataAge drops egresswatch.evidence.placement_data_age_sec.
func withoutDataAge(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = dataAge.ReplaceAllString(l, "")
	}
	return out
}
