package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestReplayMetrics: replay --metrics serves Prometheus metrics while the
// replay runs. The capture comes through a pipe held open after its first
// packets, so the replay is still running when it is scraped; the packets
// counted so far are there, and the replay ends cleanly once the pipe
// closes.
func TestReplayMetrics(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	capture := filepath.Join(dir, "mix.pcap")
	gen := exec.Command("go", "run", "../../bench/gen", "-q", "-packets", "20000", "-o", capture)
	gen.Env = goEnv()
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("bench/gen: %v\n%s", err, out)
	}
	data, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	cmd := exec.Command(bin, "replay", "--no-policy", "--events", "/dev/null", "--progress", "never", "-q", "--metrics", addr, "-")
	cmd.Env = append(os.Environ(), "EGRESSWATCH_GEO_DIR="+dir) // no placement data: nothing to load
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Most of the capture (several batches of 4096 frames), then wait.
	if _, err := stdin.Write(data[:len(data)*3/4]); err != nil {
		t.Fatal(err)
	}
	packets := regexp.MustCompile(`(?m)^egresswatch_packets_total ([0-9]+)$`)
	var seen uint64
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && seen == 0; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := packets.FindSubmatch(body); m != nil {
			seen, _ = strconv.ParseUint(string(m[1]), 10, 64)
		}
	}
	if seen == 0 {
		t.Fatalf("no packets counted in the metrics while the replay ran\n%s", stderr.String())
	}
	if seen >= 20000 {
		t.Fatalf("%d packets counted before the whole capture was written", seen)
	}
	if _, err := stdin.Write(data[len(data)*3/4:]); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr.String())
	}
	t.Logf("%d of 20000 packets counted while the replay ran", seen)
}
