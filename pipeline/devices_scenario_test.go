package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/egresswatch/egresswatch/capture"
	"github.com/egresswatch/egresswatch/capture/pcaptest"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// The scenario's hosts.
var (
	macLaptop  = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x04, 0x12}
	macPrinter = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x07, 0x07}
	macRouter  = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macServer  = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x53}
	ipLeased   = net.IPv4(10, 12, 40, 87).To4()
	ipServer   = net.IPv4(10, 12, 40, 1).To4()
	ipRemote   = net.IPv4(198, 51, 100, 7).To4()
)

// frame serialises layers into an Ethernet frame.
func frame(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	for _, l := range ls {
		if u, ok := l.(*layers.UDP); ok {
			for _, n := range ls {
				if ip, ok := n.(*layers.IPv4); ok {
					u.SetNetworkLayerForChecksum(ip)
				}
			}
		}
		if tc, ok := l.(*layers.TCP); ok {
			for _, n := range ls {
				if ip, ok := n.(*layers.IPv4); ok {
					tc.SetNetworkLayerForChecksum(ip)
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// dhcpFrame builds a DHCP message from a client (request, release) or the
// server (ack), as gopacket encodes it.
func dhcpFrame(t *testing.T, typ layers.DHCPMsgType, mac net.HardwareAddr, ciaddr, yiaddr net.IP, host string) []byte {
	d := &layers.DHCPv4{HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, Xid: binary.BigEndian.Uint32(mac[2:]),
		ClientHWAddr: mac, ClientIP: net.IPv4zero.To4(), YourClientIP: net.IPv4zero.To4(),
		NextServerIP: net.IPv4zero.To4(), RelayAgentIP: net.IPv4zero.To4()}
	if ciaddr != nil {
		d.ClientIP = ciaddr
	}
	d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(typ)}))
	if host != "" {
		d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptHostname, []byte(host)))
	}
	eth := &layers.Ethernet{EthernetType: layers.EthernetTypeIPv4, DstMAC: layers.EthernetBroadcast}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, DstIP: net.IPv4bcast.To4()}
	udp := &layers.UDP{}
	switch typ {
	case layers.DHCPMsgTypeAck:
		d.Operation = layers.DHCPOpReply
		d.YourClientIP = yiaddr
		d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptLeaseTime, []byte{0, 0, 0x0e, 0x10}))
		eth.SrcMAC, ip.SrcIP, udp.SrcPort, udp.DstPort = macServer, ipServer, 67, 68
	default:
		d.Operation = layers.DHCPOpRequest
		eth.SrcMAC, ip.SrcIP, udp.SrcPort, udp.DstPort = mac, net.IPv4zero.To4(), 68, 67
		if ciaddr != nil {
			ip.SrcIP, ip.DstIP, eth.DstMAC = ciaddr, ipServer, macServer
		}
	}
	return frame(t, eth, ip, udp, d)
}

// synFrame builds a TCP SYN from the leased address to port 443 of the
// remote host, sent from srcMAC (the device itself, or the router that
// forwards its packets).
func synFrame(t *testing.T, srcMAC net.HardwareAddr, sport uint16) []byte {
	eth := &layers.Ethernet{EthernetType: layers.EthernetTypeIPv4, SrcMAC: srcMAC, DstMAC: macRouter}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ipLeased, DstIP: ipRemote}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: 443, SYN: true, Seq: 1000, Window: 65535}
	return frame(t, eth, ip, tcp)
}

// TestDeviceLeaseScenario: a laptop leases 10.12.40.87 with host name
// GOV-LT-0412 and browses, once directly and once through a router; then
// it releases the address, a printer leases it, and browses too. The
// laptop's flows and alerts carry its name and MAC (the router's frames
// included), its hostnames group fires, and the printer's flow carries the
// printer's name, never the laptop's.
func TestDeviceLeaseScenario(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	pkts := []pcaptest.Packet{
		{Time: at(0), Data: dhcpFrame(t, layers.DHCPMsgTypeRequest, macLaptop, nil, nil, "GOV-LT-0412")},
		{Time: at(1), Data: dhcpFrame(t, layers.DHCPMsgTypeAck, macLaptop, nil, ipLeased, "")},
		{Time: at(2), Data: synFrame(t, macLaptop, 40001)},
		{Time: at(3), Data: synFrame(t, macRouter, 40002)},
		{Time: at(200), Data: dhcpFrame(t, layers.DHCPMsgTypeRelease, macLaptop, ipLeased, nil, "")},
		{Time: at(201), Data: dhcpFrame(t, layers.DHCPMsgTypeRequest, macPrinter, nil, nil, "PRINTER-7")},
		{Time: at(202), Data: dhcpFrame(t, layers.DHCPMsgTypeAck, macPrinter, nil, ipLeased, "")},
		{Time: at(203), Data: synFrame(t, macRouter, 40003)},
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "lease.pcap")
	var raw bytes.Buffer
	if err := pcaptest.WritePcap(&raw, layers.LinkTypeEthernet, false, binary.LittleEndian, pkts); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pcap, raw.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	country := filepath.Join(dir, "country.csv")
	if err := os.WriteFile(country, []byte("198.51.100.0,198.51.100.255,US\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Open(geo.Options{GeoIP: []string{country}})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := rules.Parse("devices.yaml", []byte(`version: 1
groups:
  laptops:
    hostnames: [GOV-*]
rules:
  - id: laptop-abroad
    name: Laptop traffic outside the UK
    from: [laptops]
    to: any
    allow: [UK]
    severity: high
`))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := track.ParseInventory("inventory.csv", strings.NewReader("mac,owner,department,group\n02:00:00:00:04:12,J. Smith,Cabinet Office,cabinet\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3} {
		src, err := capture.OpenAll([]string{pcap})
		if err != nil {
			t.Fatal(err)
		}
		var events, alerts bytes.Buffer
		if _, err := Run(context.Background(), src, Config{Events: &events, Alerts: &alerts, Policy: pol,
			Placer: geo.NewCache(db, 64), Inventory: inv, Workers: workers}); err != nil {
			t.Fatal(err)
		}
		src.Close()
		flows := map[float64]map[string]any{}
		dhcp := 0
		for _, e := range decodeLines(t, events.Bytes()) {
			switch str(e, "event.dataset") {
			case "egresswatch.flow":
				if p, _ := field(e, "destination.port").(float64); p == 443 {
					flows[field(e, "source.port").(float64)] = e
				}
			case "egresswatch.dhcp":
				dhcp++
			}
		}
		if dhcp != 5 {
			t.Errorf("workers %d: %d dhcp events, want 5", workers, dhcp)
		}
		for _, c := range []struct {
			port                     float64
			name, mac, source, owner string
		}{
			{40001, "GOV-LT-0412", "02-00-00-00-04-12", "dhcp", "J. Smith"},
			{40002, "GOV-LT-0412", "02-00-00-00-04-12", "dhcp", "J. Smith"}, // through the router
			{40003, "PRINTER-7", "02-00-00-00-07-07", "dhcp", ""},           // the address re-leased
		} {
			e := flows[c.port]
			if e == nil {
				t.Errorf("workers %d: no flow event from port %v", workers, c.port)
				continue
			}
			for _, f := range []struct{ path, want string }{
				{"source.domain", c.name}, {"source.mac", c.mac},
				{"egresswatch.device.name_source", c.source}, {"egresswatch.device.owner", c.owner},
			} {
				if got := str(e, f.path); got != f.want {
					t.Errorf("workers %d, port %v: %s = %q, want %q", workers, c.port, f.path, got, f.want)
				}
			}
		}
		var got []string
		for _, a := range decodeLines(t, alerts.Bytes()) {
			if str(a, "rule.id") != "laptop-abroad" || str(a, "event.action") != "flow-start" {
				continue
			}
			got = append(got, str(a, "source.domain")+" "+str(a, "source.mac")+" "+str(a, "egresswatch.device.department"))
			if m := str(a, "message"); !strings.HasPrefix(m, "Device GOV-LT-0412 (10.12.40.87)") {
				t.Errorf("workers %d: alert message %q does not name the device", workers, m)
			}
		}
		// One alert for the laptop's first flow; the second falls in its
		// suppression window; none for the printer.
		if strings.Join(got, "|") != "GOV-LT-0412 02-00-00-00-04-12 Cabinet Office" {
			t.Errorf("workers %d: laptop-abroad alerts = %q", workers, got)
		}
	}
}

func decodeLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}
