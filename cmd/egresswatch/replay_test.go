package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func sharedPcap(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "pcaps", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared captures not found: %v", err)
	}
	return p
}

// TestReplaySummary replays two captures, a directory holding a file that
// is not a capture (skipped) and a named file that is not one (an error),
// and checks the summary on stderr word for word (apart from the timing)
// and the exit code.
func TestReplaySummary(t *testing.T) {
	dir := sharedGeo(t)
	dns, quic := sharedPcap(t, "ndpi-googledns_android10.pcap"), sharedPcap(t, "arkime-quicietf.pcap")
	tmp := t.TempDir()
	walked := filepath.Join(tmp, "walked")
	os.Mkdir(walked, 0o755)
	os.WriteFile(filepath.Join(walked, "notes.txt"), []byte("notes\n"), 0o644)
	named := filepath.Join(tmp, "named.txt")
	os.WriteFile(named, []byte("not a capture\n"), 0o644)

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"replay", "--progress", "never", "--workers", "2",
		"--alerts", filepath.Join(tmp, "alerts.json"), "--events", filepath.Join(tmp, "events.json"),
		"--geoip", filepath.Join(dir, "maxmind-test", "test-data", "GeoIP2-Country-Test.mmdb"),
		"--cloud-dir", filepath.Join(dir, "cloud"),
		dns, quic, walked, named}, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d, want 1 (a named file is not a capture)", code)
	}
	got := regexp.MustCompile(`in [0-9.]+s \([0-9]+ packets/s\)`).ReplaceAllString(errb.String(), "in T")
	got = regexp.MustCompile(`(?m)^  placement: .*\n`).ReplaceAllString(got, "")
	want := named + `: not a capture file (pcap or pcapng)
egresswatch: 3 file(s), 1 with errors; 533 packets in T
  flows 9 (named 6: quic 1, sni 5); evicted 0, expired 8
  dns messages 0, tls hellos 5, quic hellos 1, http requests 0; events written 15
  decode: malformed 0, unknown link type 0, non-IP 0, tunnelled 0, IP fragments 0 (reassembled 0, dropped 0); tunnels not followed 0, 802.11 frames not decoded 0
  policy: 9 evaluations, 2 alerts written, 12 suppressed (gov-encrypted-dns 7, gov-outside-approved 7); suppression windows open 0 (evicted 0)
  streams: malformed dns 0, malformed tls 0, buffer overflows 0, out-of-order dropped 0, over memory budget 0; passive dns 0 entries (evicted 0)
  skipped 1 file(s) in the directories given that are not captures:
    ` + filepath.Join(walked, "notes.txt") + `
`
	if got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
}
