//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/egresswatch/egresswatch/internal/netnstest"
)

// Ethernet captures from ../shared/pcaps with VLAN tags (tag 0 too), IPv6
// fragments, VXLAN, split and huge ClientHellos, DNS and HTTP.
var wireFiles = []string{
	"arkime-twovlan.pcap", "zeek-http-vlan-0.pcap", "suricata-frag-eth-vlan-ipv6-tcp.pcap", "arkime-tls-split-client-hello.pcap",
	"ndpi-dns.pcap", "ndpi-tls_with_huge_ch.pcapng", "suricata-vxlan-dns.pcap", "ndpi-vxlan.pcap",
	"ndpi-sites.pcapng", "ndpi-reddit.pcap",
}

// observations keeps the DNS, TLS, QUIC and HTTP events: what names a
// destination. Flow summaries are left out: at a replay rate flows idle
// out at other moments than in the original timing.
func observations(t *testing.T, path string) []string {
	var out []string
	for _, ln := range lines(t, path) {
		if !strings.Contains(ln, `"dataset":"egresswatch.flow"`) {
			out = append(out, ln)
		}
	}
	return out
}

// TestTcpreplayIntoVeth plays captures onto a veth at a fixed rate; live
// on the other end must see what a replay of the file sees, with no drop.
func TestTcpreplayIntoVeth(t *testing.T) {
	netnstest.Require(t, "tcpreplay")
	shared := "../../shared/pcaps"
	if _, err := os.Stat(shared); err != nil {
		t.Skip("../shared/pcaps is absent")
	}
	bin := binary(t)
	ns := netnstest.New(t, "rp")
	netnstest.Veth(t, ns, "t0", "", ns, "t1", "")
	for _, ifc := range []string{"t0", "t1"} {
		ns.SetMTU(t, ifc, 9000)
		ns.NoOffload(t, ifc)
	}
	dir := openDir(t)
	for _, name := range wireFiles {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(shared, name)
			if _, err := os.Stat(file); err != nil {
				t.Skipf("%s absent", name)
			}
			base := filepath.Join(dir, name)
			live := start(t, ns, "capturing on", bin, "live", "-i", "t1", "--workers", "2", "--no-policy", "--events", base+".live")
			out, err := ns.Command("tcpreplay", "-i", "t0", "--pps", "2000", file).CombinedOutput()
			if err != nil {
				t.Fatalf("tcpreplay: %v\n%s", err, out)
			}
			if err := live.stop(t, syscall.SIGTERM); err != nil {
				t.Fatalf("live: %v\n%s", err, live.log())
			}
			rout, err := exec.Command(bin, "replay", "--no-policy", "-q", "--progress", "never", "--events", base+".replay", file).CombinedOutput()
			if err != nil {
				t.Fatalf("replay: %v\n%s", err, rout)
			}
			got, want := observations(t, base+".live"), observations(t, base+".replay")
			if len(want) == 0 {
				// Short captures with nothing to name: their flows (VLAN
				// ids, PPPoE sessions) must match whole.
				got, want = lines(t, base+".live"), lines(t, base+".replay")
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("live %d events, replay %d:\n%s", len(got), len(want), diff(got, want))
			}
			if len(want) == 0 {
				t.Errorf("no events at all in %s", name)
			}
			sent := regexp.MustCompile(`Successful packets:\s+(\d+)`).FindStringSubmatch(string(out))
			m := regexp.MustCompile(`ring t1/\d+: kernel packets (\d+), drops (\d+)`).FindAllStringSubmatch(live.log(), -1)
			if len(m) != 2 || sent == nil {
				t.Fatalf("no ring counts or tcpreplay count:\n%s\n%s", live.log(), out)
			}
			for _, r := range m {
				if r[2] != "0" {
					t.Errorf("kernel drops %s on a ring at 2000 packets/s", r[2])
				}
			}
			if !strings.Contains(live.log(), " "+sent[1]+" packets in") {
				t.Errorf("tcpreplay sent %s packets; live summary: %s", sent[1], live.log())
			}
		})
	}
}
