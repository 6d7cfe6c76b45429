package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
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

// TestReplayStateOldVersion: a checkpoint of an older egresswatch is moved
// aside with a warning and the report starts afresh.
func TestReplayStateOldVersion(t *testing.T) {
	a := "../../testdata/pcap/passive-dns.pcap"
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	os.Mkdir(state, 0o750)
	old := `{"version":1,"files":["x.pcap"],"first":"2025-03-01T09:00:00Z","last":"2025-03-01T09:00:03Z","flows":7,` +
		`"devices":[],"alerts":0,"rows":null,"indeterminate":null}` + "\n"
	os.WriteFile(filepath.Join(state, stateFile), []byte(old), 0o640)
	two, one := filepath.Join(dir, "two.md"), filepath.Join(dir, "one.md")
	var out, errb bytes.Buffer
	if err := replay(context.Background(), []string{"-q", "--progress", "never", "--state", state, "--report", two, a}, &out, &errb); err != nil {
		t.Fatalf("replay: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "version 1") || !strings.Contains(errb.String(), "the report starts afresh") {
		t.Errorf("stderr does not say the old checkpoint was set aside:\n%s", errb.String())
	}
	if got, _ := os.ReadFile(filepath.Join(state, stateFile+".bad")); string(got) != old {
		t.Errorf("old checkpoint not kept as .bad: %q", got)
	}
	replayOK(t, "--report", one, a)
	got, _ := os.ReadFile(two)
	want, _ := os.ReadFile(one)
	if !bytes.Equal(got, want) || len(want) == 0 {
		t.Errorf("report after an old checkpoint:\n%s\nwant, as a fresh run:\n%s", got, want)
	}
}
