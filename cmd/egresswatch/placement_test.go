package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egresswatch/egresswatch/geo"
)

// noPlacementData makes the placement data search find nothing, or skips
// the test on a machine with data installed where it looks.
func noPlacementData(t *testing.T) {
	t.Helper()
	t.Setenv("EGRESSWATCH_GEO_DIR", t.TempDir())
	if o := geo.Discover(geo.DefaultDirs("")); len(o.GeoIP) > 0 || o.CloudDir != "" {
		t.Skipf("placement data installed on this machine: %+v", o)
	}
}

// TestReplayWithoutPlacement: a run that finds no placement data says so
// on stderr, at the top of the report and in every alert, and
// --require-placement makes it an error.
func TestReplayWithoutPlacement(t *testing.T) {
	noPlacementData(t)
	tmp := t.TempDir()
	rep, alerts := filepath.Join(tmp, "r.md"), filepath.Join(tmp, "alerts.jsonl")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"replay", "--progress", "never", "--workers", "1",
		"--report", rep, "--alerts", alerts, "../../testdata/sample/ministry.pcapng"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"egresswatch: WARNING: no placement data was found (no GeoIP country database, no cloud ranges)",
		"`make geodata`", "`egresswatch geo fetch`", "EGRESSWATCH_GEO_DIR", "--require-placement",
		"  placement: none\n",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	md, _ := os.ReadFile(rep)
	if !strings.HasPrefix(string(md), "# Data residency report\n\n> **Warning: placement data is missing or incomplete.** no placement data was found") {
		t.Errorf("report does not start with the warning:\n%s", md)
	}
	lines, _ := os.ReadFile(alerts)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		n++
		if !strings.Contains(l, `"placement_data":"none"`) {
			t.Errorf("alert without egresswatch.evidence.placement_data: %s", l)
		}
	}
	if n == 0 {
		t.Errorf("no alerts written")
	}

	errb.Reset()
	code = run(context.Background(), []string{"replay", "--progress", "never", "--require-placement",
		"--alerts", alerts, "../../testdata/sample/ministry.pcapng"}, &out, &errb)
	if code != 2 || !strings.HasPrefix(errb.String(), "egresswatch replay: --require-placement: no placement data was found") {
		t.Errorf("--require-placement: exit %d, stderr %q; want 2 and the reason", code, errb.String())
	}
}
