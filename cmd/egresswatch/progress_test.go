package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture/pcaptest"
)

func TestBarLine(t *testing.T) {
	for _, tt := range []struct {
		name         string
		n, total     int64
		took         time.Duration
		final        bool
		want, absent string
	}{
		{"no rate at the start", 5 << 30, 10 << 30, time.Millisecond, false, "replay  50% [===============               ] 5.0 GiB / 10.0 GiB", "/s"},
		{"running", 1 << 20, 4 << 20, 2 * time.Second, false, " 25% ", "512.0 KiB/s, 6s left"},
		{"final", 4 << 20, 4 << 20, 2 * time.Second, true, "replay 100% [==============================] 4.0 MiB / 4.0 MiB, 2.0 MiB/s, 2s", "left"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := barLine(tt.n, tt.total, tt.took, tt.final)
			if !strings.Contains(got, tt.want) {
				t.Errorf("barLine = %q, want %q in it", got, tt.want)
			}
			if tt.name == "running" {
				return
			}
			if strings.Contains(got, tt.absent) {
				t.Errorf("barLine = %q, has %q", got, tt.absent)
			}
		})
	}
}

// TestProgressPTY replays a generated capture with stderr on a
// pseudo-terminal (--progress auto) and checks that the last bar drawn is
// at 100 % with the final figures, and stays on the screen.
func TestProgressPTY(t *testing.T) {
	if args := os.Getenv("EGRESSWATCH_PTY_CHILD"); args != "" {
		os.Exit(run(context.Background(), strings.Split(args, "\t"), io.Discard, os.Stderr))
	}
	if testing.Short() {
		t.Skip("runs a replay in a child process")
	}
	dir := t.TempDir()
	capFile := filepath.Join(dir, "gen.pcap")
	var frames []pcaptest.Packet
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	frame := make([]byte, 600) // Ethernet, then bytes no decoder claims: counted, cheap
	for i := range 20000 {
		frames = append(frames, pcaptest.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: frame})
	}
	var buf bytes.Buffer
	if err := pcaptest.WritePcap(&buf, layers.LinkTypeEthernet, false, binary.LittleEndian, frames); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(capFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProgressPTY$")
	cmd.Env = append(os.Environ(), "EGRESSWATCH_PTY_CHILD="+strings.Join([]string{
		"replay", "-q", "--no-policy", "--workers", "1", "--progress", "auto", capFile}, "\t"))
	f, err := pty.Start(cmd)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer f.Close()
	out, _ := io.ReadAll(f) // EIO once the child exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	draws := regexp.MustCompile(`replay +\d+% \[[= ]*\][^\r\n]*`).FindAll(out, -1)
	if len(draws) == 0 {
		t.Fatalf("no progress bar on the terminal:\n%q", out)
	}
	last := string(draws[len(draws)-1])
	size := bytesIEC(int64(buf.Len()))
	if !strings.HasPrefix(last, "replay 100% [==============================] "+size+" / "+size+", ") {
		t.Errorf("last bar drawn = %q, want it at 100%% of %s", last, size)
	}
	if !bytes.Contains(out, []byte(last+"\r\n")) {
		t.Errorf("the final bar is not left on the screen (ends with a newline):\n%q", out)
	}
}
