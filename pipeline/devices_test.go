package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// devicesDir holds real DHCP, DHCPv6, NBNS and LLMNR captures with
// tshark's reading of them (see its README). They are not part of the
// repository.
const devicesDir = "../../shared/devices"

// readDeviceTruth reads truth/<file>.<proto>.tsv as rows keyed by column
// name; nil when the file is absent.
func readDeviceTruth(t *testing.T, file, proto string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(devicesDir, "truth", file+"."+proto+".tsv"))
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	head := strings.Split(lines[0], "\t")
	var rows []map[string]string
	for _, line := range lines[1:] {
		r := map[string]string{}
		for i, v := range strings.Split(line, "\t") {
			if i < len(head) {
				r[head[i]] = v
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func first(s string) string {
	s, _, _ = strings.Cut(s, ",")
	return s
}

var dhcpTypeNames = map[string]string{"1": "discover", "2": "offer", "3": "request", "4": "decline",
	"5": "ack", "6": "nak", "7": "release", "8": "inform"}

var dhcpv6TypeNames = map[string]string{"1": "solicit", "2": "advertise", "3": "request", "4": "confirm",
	"5": "renew", "6": "rebind", "7": "reply", "8": "release", "9": "decline", "10": "reconfigure",
	"11": "information-request"}

// TestDevicesParity replays every capture of the devices folder and
// checks that each DHCP, DHCPv6, NBNS and LLMNR message tshark reads is an
// event with the same frame number and the same facts: message type,
// client MAC and host name (DHCP), name with suffix (NBNS), question
// (LLMNR).
func TestDevicesParity(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(devicesDir, "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("no device-identity captures at %s: skipping the comparison with tshark", devicesDir)
	}
	sort.Strings(files)
	type tally struct{ tp, want, got int }
	totals := map[string]*tally{}
	var table strings.Builder
	for _, path := range files {
		base := filepath.Base(path)
		evs := replayEvents(t, path)
		want := map[string]multiset{"dhcp": {}, "dhcpv6": {}, "nbns": {}, "llmnr": {}, "dhcp-options": {}, "llmnr-answers": {}}
		got := map[string]multiset{"dhcp": {}, "dhcpv6": {}, "nbns": {}, "llmnr": {}, "dhcp-options": {}, "llmnr-answers": {}}
		for _, r := range readDeviceTruth(t, base, "dhcp") {
			typ := first(r["dhcp.option.dhcp"])
			if n, ok := dhcpTypeNames[typ]; ok {
				typ = n
			}
			want["dhcp"][fmt.Sprintf("%s %s %s %q", r["frame.number"], typ,
				first(r["dhcp.hw.mac_addr"]), first(r["dhcp.option.hostname"]))]++
			want["dhcp-options"][fmt.Sprintf("%s ci=%s yi=%s req=%s fqdn=%q vendor=%q domain=%q lease=%s", r["frame.number"],
				noZero(r["dhcp.ip.client"]), noZero(r["dhcp.ip.your"]), noZero(first(r["dhcp.option.requested_ip_address"])),
				first(r["dhcp.fqdn.name"]), first(r["dhcp.option.vendor_class_id"]), first(r["dhcp.option.domain_name"]),
				first(r["dhcp.option.ip_address_lease_time"]))]++
		}
		for _, r := range readDeviceTruth(t, base, "dhcpv6") {
			// The DUID columns list the client's and the server's link-layer
			// addresses: the client's is the first of the two in practice,
			// but either may be absent, so only the type is compared here
			// and the MAC below.
			want["dhcpv6"][fmt.Sprintf("%s %s", r["frame.number"], dhcpv6TypeNames[first(r["dhcpv6.msgtype"])])]++
		}
		for _, r := range readDeviceTruth(t, base, "nbns") {
			name, _, _ := strings.Cut(first(r["nbns.name"]), " (")
			want["nbns"][r["frame.number"]+" "+name]++
		}
		for _, r := range readDeviceTruth(t, base, "llmnr") {
			want["llmnr"][r["frame.number"]+" "+first(r["dns.qry.name"])]++
			want["llmnr-answers"][r["frame.number"]+" "+r["dns.a"]+" "+r["dns.aaaa"]]++
		}
		macs6 := map[string]string{}
		for _, r := range readDeviceTruth(t, base, "dhcpv6") {
			macs6[r["frame.number"]] = r["dhcpv6.duidllt.link_layer_addr"] + "," + r["dhcpv6.duidll.link_layer_addr"]
		}
		for _, e := range evs {
			seq := strconv.FormatFloat(field(e, "event.sequence").(float64), 'f', -1, 64)
			switch str(e, "event.dataset") {
			case "egresswatch.dhcp":
				if str(e, "network.protocol") == "dhcpv6" {
					got["dhcpv6"][seq+" "+str(e, "dhcpv6.message_type")]++
					if m := str(e, "dhcpv6.client_mac"); m != "" && macs6[seq] != "" && !strings.Contains(macs6[seq], m) {
						t.Errorf("%s frame %s: dhcpv6 client MAC %s not among tshark's %s", base, seq, m, macs6[seq])
					}
					continue
				}
				got["dhcp"][fmt.Sprintf("%s %s %s %q", seq, str(e, "dhcpv4.option.message_type"),
					str(e, "dhcpv4.client_mac"), str(e, "dhcpv4.option.hostname"))]++
				lease := ""
				if v, ok := field(e, "dhcpv4.option.ip_address_lease_time_sec").(float64); ok {
					lease = strconv.FormatFloat(v, 'f', -1, 64)
				}
				got["dhcp-options"][fmt.Sprintf("%s ci=%s yi=%s req=%s fqdn=%q vendor=%q domain=%q lease=%s", seq,
					str(e, "dhcpv4.client_ip"), str(e, "dhcpv4.assigned_ip"), str(e, "dhcpv4.option.requested_ip_address"),
					str(e, "dhcpv4.option.client_fqdn"), str(e, "dhcpv4.option.vendor_identifier"), str(e, "dhcpv4.option.domain_name"), lease)]++
			case "egresswatch.nbns":
				got["nbns"][seq+" "+str(e, "nbns.name")]++
			case "egresswatch.dns":
				if str(e, "network.protocol") == "llmnr" {
					got["llmnr"][seq+" "+str(e, "dns.question.name")]++
					var a, aaaa []string
					for _, ip := range strs(e, "dns.resolved_ip") {
						if strings.Contains(ip, ":") {
							aaaa = append(aaaa, ip)
						} else {
							a = append(a, ip)
						}
					}
					got["llmnr-answers"][seq+" "+strings.Join(a, ",")+" "+strings.Join(aaaa, ",")]++
				}
			}
		}
		for _, proto := range []string{"dhcp", "dhcp-options", "dhcpv6", "nbns", "llmnr", "llmnr-answers"} {
			tp, nw, ng := compare(want[proto], got[proto])
			if nw == 0 && ng == 0 {
				continue
			}
			if totals[proto] == nil {
				totals[proto] = &tally{}
			}
			totals[proto].tp += tp
			totals[proto].want += nw
			totals[proto].got += ng
			fmt.Fprintf(&table, "%-48s %-7s %5d/%-5d (matched %d)\n", base, proto, ng, nw, tp)
			if tp != nw || tp != ng {
				missing, extra := diff(want[proto], got[proto])
				t.Logf("%s %s: missing %v; extra %v", base, proto, trunc(missing), trunc(extra))
			}
		}
	}
	for _, proto := range []string{"dhcp", "dhcp-options", "dhcpv6", "nbns", "llmnr", "llmnr-answers"} {
		c := totals[proto]
		if c == nil {
			continue
		}
		recall, precision := float64(c.tp)/float64(max(c.want, 1)), float64(c.tp)/float64(max(c.got, 1))
		fmt.Fprintf(&table, "%-7s recall %.2f%% (%d/%d), precision %.2f%% (%d/%d)\n", proto,
			100*recall, c.tp, c.want, 100*precision, c.tp, c.got)
		if recall < 0.99 || precision < 0.99 {
			t.Errorf("%s: recall %.4f, precision %.4f; want >= 0.99", proto, recall, precision)
		}
	}
	t.Logf("\n%s", table.String())
}

// noZero maps tshark's 0.0.0.0 to "" (an address the event leaves out).
func noZero(s string) string {
	if s == "0.0.0.0" {
		return ""
	}
	return s
}

func strs(m map[string]any, path string) []string {
	var out []string
	if a, ok := field(m, path).([]any); ok {
		for _, v := range a {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
