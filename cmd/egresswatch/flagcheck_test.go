package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

// TestFlagValidation: every flag with a range or a set of values is
// checked before anything runs; the error names the flag and what is
// allowed, and the exit code is 2.
func TestFlagValidation(t *testing.T) {
	pcap := "../../testdata/sample/ministry.pcapng"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"memory too small", []string{"replay", "--memory", "10", pcap}, `--memory 10: want at least 64MiB (sizes like 512MiB, 2GiB)`},
		{"memory not a size", []string{"replay", "--memory", "lots", pcap}, `--memory: "lots" is not a size`},
		{"progress enum", []string{"replay", "--progress", "sometimes", pcap}, `--progress "sometimes": want auto, always or never`},
		{"workers zero", []string{"replay", "--workers", "0", pcap}, `--workers 0: want 1 to 256`},
		{"workers negative", []string{"replay", "--workers", "-3", pcap}, `--workers -3: want 1 to 256`},
		{"two at once", []string{"replay", "--workers", "0", "--progress", "x", pcap}, "--progress \"x\": want auto, always or never\n--workers 0"},
		{"geo fetch timeout", []string{"geo", "fetch", "--timeout", "0s"}, `--timeout 0s: want a duration above 0`},
		{"live snaplen", []string{"live", "-i", "lo", "--snaplen", "10"}, `--snaplen 10: want 64 to 262144 bytes (or 0: whole frames)`},
		{"live ring size", []string{"live", "-i", "lo", "--ring-size", "0"}, `--ring-size 0: want 1 to 4096 MiB`},
		{"live summary every", []string{"live", "-i", "lo", "--summary-every", "1ms"}, `--summary-every 1ms: want 0 (never) or at least 1s`},
		{"live memory", []string{"live", "-i", "lo", "--memory", "1MiB"}, `--memory 1MiB: want at least 64MiB`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.args[0] == "live" && runtime.GOOS != "linux" {
				t.Skip("live is Linux only")
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, errb.String(), tt.want)
			}
		})
	}
}
