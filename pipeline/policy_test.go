package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/report"
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

// TestPolicyReplayExact replays the project's own sample capture
// (testdata/sample/ministry.pcapng, made by testdata/sample/gen) with a
// policy whose groups overlap (government by VLAN 120, desk-one by address,
// execs by MAC) and a small country table written here: the exact alerts,
// in order, and the exact suppression count must come out. The names come
// from passive DNS (TikTok, the file-share), SNI (Outlook, dns.google) and
// HTTP Host (news.example.com); destinations are in GB and IE (approved,
// no alert), US, and a Cloudflare anycast range (indeterminate: a warning).
func TestPolicyReplayExact(t *testing.T) {
	dir := t.TempDir()
	country := filepath.Join(dir, "country.csv")
	if err := os.WriteFile(country, []byte(strings.Join([]string{
		"81.2.69.0,81.2.69.255,GB", "185.41.88.0,185.41.88.255,IE",
		"93.184.216.0,93.184.216.255,US", "23.52.40.0,23.52.40.255,US",
		"13.107.42.0,13.107.42.255,US", "8.8.8.0,8.8.8.255,US",
		"104.16.0.0,104.31.255.255,US", ""}, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cloudDir := filepath.Join(dir, "cloud")
	if err := os.Mkdir(cloudDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cloudDir, "cloudflare-ips-v4.txt"), []byte("104.16.0.0/13\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Open(geo.Options{GeoIP: []string{country}, CloudDir: cloudDir})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := rules.Load("../testdata/policy/replay-groups.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenAll([]string{"../testdata/sample/ministry.pcapng"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var alerts bytes.Buffer
	rep := report.New()
	sum, err := Run(context.Background(), src, Config{Policy: pol, Alerts: &alerts, Placer: geo.NewCache(db, 64), Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	// rule, action, device, name (or service), country, log level, suppressed, groups, name source
	want := []string{
		"sensitive dns-query 10.20.1.15 www.tiktok.com - warning 0 government dns",
		"sensitive flow-start 10.20.1.15 www.tiktok.com US error 0 government dns",
		"outside flow-start 10.20.1.15 www.tiktok.com US warning 0 government dns",
		"sensitive dns-query 10.20.1.15 log-va.byteoversea.com - warning 0 government dns",
		"outside flow-start 10.20.1.16 outlook.office365.com US warning 0 government sni",
		"outside flow-start 10.20.1.15 news.example.com US warning 0 government http",
		// 8.8.8.8 is anycast: indeterminate, whatever GeoIP says (geo/anycast.go).
		"outside flow-start 10.20.1.15 dns.google indeterminate notice 0 government sni",
		"execs-any flow-start 10.20.1.15 dns.google - notice 0 desk-one sni",
		"outside flow-start 10.20.1.16 files.example-share.com indeterminate notice 0 government dns",
		// The repeat Outlook connection a minute later falls in the window.
		"outside suppressed-summary 10.20.1.16 - US - 1 - -",
	}
	var got []string
	sc := bufio.NewScanner(&alerts)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("alert is not JSON: %v", err)
		}
		or := func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		}
		name := str(m, "destination.domain")
		ctry := str(m, "egresswatch.country")
		if b, _ := field(m, "egresswatch.indeterminate").(bool); b {
			ctry = "indeterminate"
		}
		groups := "-"
		if g, ok := field(m, "egresswatch.group").([]any); ok {
			var gs []string
			for _, x := range g {
				gs = append(gs, x.(string))
			}
			groups = strings.Join(gs, ",")
		}
		supp, _ := field(m, "egresswatch.evidence.suppressed_count").(float64)
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s %d %s %s", str(m, "rule.id"), str(m, "event.action"),
			str(m, "source.ip"), or(name), or(ctry), or(str(m, "log.level")), int(supp), groups,
			or(str(m, "egresswatch.evidence.name_source"))))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if sum.Judge.Alerts != 9 || sum.Judge.Suppressed != 1 {
		t.Errorf("judge: %d alerts written, %d suppressed; want 9, 1", sum.Judge.Alerts, sum.Judge.Suppressed)
	}
	// Approved destinations are in the report, without alerts.
	approved := 0
	for _, r := range rep.Rows() {
		if r.Country == "GB" || r.Country == "IE" {
			approved++
			if r.Alerts != 0 || r.Flows != 1 {
				t.Errorf("report row %+v: want 1 flow, 0 alerts", r)
			}
		}
	}
	// 10.20.1.16 is in government and execs: each approved flow counts in
	// both groups' rows.
	if approved != 4 {
		t.Errorf("report has %d rows for GB and IE; want 4", approved)
	}
}
