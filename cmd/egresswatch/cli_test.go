package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHelp: asking for help is success (exit 0), and the flags are shown
// the way the README writes them (--alerts, not -alerts).
func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"replay", "--help"}, {"replay", "-h"}, {"lookup", "--help"}, {"geo", "fetch", "--help"},
		{"policy", "check", "--help"}, {"catalog", "import", "--help"}, {"--help"}, {"help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), args, &out, &errb); code != 0 {
				t.Errorf("exit %d, want 0:\n%s", code, errb.String())
			}
			if regexp.MustCompile(`\n  -[a-z][a-z]`).MatchString(errb.String()) {
				t.Errorf("a flag shown with one dash:\n%s", errb.String())
			}
		})
	}
	var out, errb bytes.Buffer
	run(context.Background(), []string{"replay", "--help"}, &out, &errb)
	for _, want := range []string{"\n  --alerts FILE\n        write alerts", "\n  --progress MODE\n", "\n  --require-placement\n"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("replay --help lacks %q:\n%s", want, errb.String())
		}
	}
	errb.Reset()
	if code := run(context.Background(), []string{"replay", "--frobnicate", "x.pcap"}, &out, &errb); code != 2 ||
		errb.String() != "egresswatch replay: flag provided but not defined: --frobnicate (see egresswatch replay --help)\n" {
		t.Errorf("unknown flag: exit %d, %q", code, errb.String())
	}
}

func TestVersion(t *testing.T) {
	noPlacementData(t)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		lines := strings.Split(out.String(), "\n")
		if len(lines) < 4 || !strings.HasPrefix(lines[0], "egresswatch ") || !strings.HasPrefix(lines[1], "commit      ") ||
			lines[2] != "go          "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH ||
			!strings.HasPrefix(lines[3], "placement   none found (looked in ") {
			t.Errorf("%v:\n%s", args, out.String())
		}
	}
	// With data: each file and its age.
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "country.mmdb"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(data, "cloud"), 0o755)
	os.WriteFile(filepath.Join(data, "cloud", "aws-ip-ranges.json"), []byte("{}"), 0o644)
	now := time.Now()
	os.Chtimes(filepath.Join(data, "cloud", "aws-ip-ranges.json"), now, now.Add(-72*time.Hour))
	t.Setenv("EGRESSWATCH_GEO_DIR", data)
	var out bytes.Buffer
	writeVersion(&out, now)
	for _, want := range []string{
		"geoip       " + filepath.Join(data, "country.mmdb") + ", updated " + now.Format(time.DateOnly) + " (today)\n",
		"cloud       " + filepath.Join(data, "cloud") + ", updated " + now.Add(-72*time.Hour).Format(time.DateOnly) + " (3 days old)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version lacks %q:\n%s", want, out.String())
		}
	}
}

// TestErrorsSayPathOnce: a missing output folder and a truncated .gz each
// give one line that names the path once.
func TestErrorsSayPathOnce(t *testing.T) {
	noPlacementData(t)
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "no", "such", "alerts.jsonl")
	pcap := "../../testdata/sample/ministry.pcapng"
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"replay", "-q", "--progress", "never", "--alerts", missing, pcap}, &out, &errb)
	want := "egresswatch replay: create " + missing + ": no such file or directory\n"
	if code != 2 || !strings.HasSuffix(errb.String(), want) || strings.Count(errb.String(), missing) != 1 {
		t.Errorf("missing folder: exit %d, stderr %q; want 2 and %q", code, errb.String(), want)
	}
	errb.Reset()
	code = run(context.Background(), []string{"replay", "-q", "--progress", "never", "--report", filepath.Join(tmp, "no", "r.md"), pcap}, &out, &errb)
	if code != 2 || strings.Count(errb.String(), filepath.Join(tmp, "no", "r.md")) != 1 {
		t.Errorf("missing report folder: exit %d, stderr %q", code, errb.String())
	}

	raw, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	trunc := filepath.Join(tmp, "trunc.pcapng.gz")
	os.WriteFile(trunc, gz.Bytes()[:gz.Len()/2], 0o644)
	errb.Reset()
	code = run(context.Background(), []string{"replay", "-q", "--progress", "never", "--alerts", filepath.Join(tmp, "a.jsonl"), trunc}, &out, &errb)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		if !strings.HasPrefix(l, "egresswatch: WARNING") {
			lines = append(lines, l)
		}
	}
	if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], trunc+": ") {
		t.Errorf("truncated gzip: exit %d, want 1 and one line naming the file:\n%s", code, errb.String())
	}
}
