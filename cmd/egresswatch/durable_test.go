package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func replayOK(t *testing.T, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if err := replay(context.Background(), append([]string{"-q", "--progress", "never", "--workers", "2"}, args...), &out, &errb); err != nil {
		t.Fatalf("replay %v: %v\n%s", args, err, errb.String())
	}
}

// TestReplayStateContinues: two runs, the second continuing the first's
// report state (--state), report what one run over both captures
// reports.
func TestReplayStateContinues(t *testing.T) {
	a, b := "../../testdata/pcap/passive-dns.pcap", "../../testdata/sample/ministry.pcapng" // the sample has 9 alerts
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	for _, format := range []string{"json", "md"} {
		two, one := filepath.Join(dir, "two."+format), filepath.Join(dir, "one."+format)
		os.RemoveAll(state)
		replayOK(t, "--alerts", filepath.Join(dir, "alerts.jsonl"), "--state", state, "--report", two, a)
		replayOK(t, "--alerts", filepath.Join(dir, "alerts.jsonl"), "--append", "--state", state, "--report", two, b)
		replayOK(t, "--alerts", filepath.Join(dir, "alerts1.jsonl"), "--report", one, a, b)
		got, _ := os.ReadFile(two)
		want, _ := os.ReadFile(one)
		if !bytes.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: report after two runs:\n%s\nwant, as one run over both:\n%s", format, got, want)
		}
		// --append kept the first run's alerts.
		gotA, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
		wantA, _ := os.ReadFile(filepath.Join(dir, "alerts1.jsonl"))
		if bytes.Count(gotA, []byte("\n")) != bytes.Count(wantA, []byte("\n")) {
			t.Errorf("alerts: %d lines over two runs with --append, %d in one run", bytes.Count(gotA, []byte("\n")), bytes.Count(wantA, []byte("\n")))
		}
		os.Remove(filepath.Join(dir, "alerts.jsonl"))
	}
}
