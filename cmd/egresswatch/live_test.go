//go:build linux

package main

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

func TestParseDDD(t *testing.T) {
	// tcpdump -ddd -s 96 udp port 53 (trimmed to its first and last
	// instructions).
	good := "3\n40 0 0 12\n21 0 1 34525\n6 0 0 96\n"
	prog, err := parseDDD(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []bpf.RawInstruction{{Op: 40, K: 12}, {Op: 21, Jt: 0, Jf: 1, K: 34525}, {Op: 6, K: 96}}
	if len(prog) != len(want) {
		t.Fatalf("got %v", prog)
	}
	for i := range want {
		if prog[i] != want[i] {
			t.Errorf("instruction %d = %+v, want %+v", i, prog[i], want[i])
		}
	}
	for _, bad := range []string{"", "2\n6 0 0 96\n", "1\n6 0 0\n", "1\n6 0 999 96\n", "1\n6 0 0 x\n", "x\n"} {
		if _, err := parseDDD(bad); err == nil {
			t.Errorf("parseDDD(%q): no error", bad)
		}
	}
}

// TestCompileBPF compiles a real expression with tcpdump on loopback.
func TestCompileBPF(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	prog, err := compileBPF("lo", "udp port 53", 128)
	if err != nil {
		t.Skipf("tcpdump cannot compile here: %v", err)
	}
	if len(prog) < 4 || prog[len(prog)-2].K != 128 && prog[len(prog)-1].K != 128 {
		t.Errorf("program %v does not return the snap length 128", prog)
	}
	if _, err := compileBPF("lo", "udp port", 0); err == nil || !strings.Contains(err.Error(), "--bpf") {
		t.Errorf("bad expression: %v", err)
	}
}

// TestServeMetrics: the server ends without error when the run ends, and
// a failure to serve is an error that stops the run.
func TestServeMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	done, end := context.WithCancel(context.Background())
	end()
	if err := serveMetrics(ln, http.NotFoundHandler())(done); err != nil {
		t.Errorf("run ended: serveMetrics = %v, want nil", err)
	}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	ln.Close() // the listener fails under the server
	if err := serveMetrics(ln, http.NotFoundHandler())(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "metrics: ") {
		t.Errorf("listener closed: serveMetrics = %v, want a metrics: error", err)
	}
}
