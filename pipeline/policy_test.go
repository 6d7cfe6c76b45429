package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/rules"
)

// TestTikTokInRealCapture replays ndpi-sites.pcapng, a real browsing
// capture whose client 192.168.1.250 opens TLS to vcs-va.tiktokv.com (a
// TikTok video host; tshark's truth lists the SNI), with the built-in
// policy, which counts every internal device as government. The
// sensitive-service rule must fire for exactly that flow, named by SNI.
func TestTikTokInRealCapture(t *testing.T) {
	path := filepath.Join(corpusDir, "ndpi-sites.pcapng")
	corpusFiles(t) // skips without the shared corpus
	src, err := capture.OpenAll([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var alerts bytes.Buffer
	sum, err := Run(context.Background(), src, Config{Policy: rules.Default(), Alerts: &alerts})
	if err != nil {
		t.Fatal(err)
	}
	var hits []map[string]any
	sc := bufio.NewScanner(&alerts)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("alert is not JSON: %v", err)
		}
		if str(m, "rule.id") == "gov-sensitive-app" {
			hits = append(hits, m)
		}
	}
	if len(hits) != 1 {
		t.Fatalf("gov-sensitive-app alerts = %d; want 1 (summary %+v)", len(hits), sum.Judge)
	}
	a := hits[0]
	for _, c := range []struct{ path, want string }{
		{"source.ip", "192.168.1.250"},
		{"destination.domain", "vcs-va.tiktokv.com"},
		{"egresswatch.service", "tiktok"},
		{"egresswatch.evidence.name_source", "sni"},
		{"log.level", "error"},
	} {
		if got := str(a, c.path); got != c.want {
			t.Errorf("%s = %q; want %q", c.path, got, c.want)
		}
	}
}
