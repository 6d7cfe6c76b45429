package pipeline

import (
	"path/filepath"
	"testing"
)

// tsharkICMPFrames is how many frames of each corpus capture tshark finds
// ICMP or ICMPv6 in (every other capture has none), counted with
//
//	tshark -n -r F -Y 'icmp || icmpv6' | wc -l
//
// (TShark 4.0.17, the Debian 12 package, default preferences).
var tsharkICMPFrames = map[string]int{
	"arkime-dot1ad.pcap":                   2,
	"ndpi-6in4tunnel.pcap":                 48,
	"ndpi-googledns_android10.pcap":        4,
	"ndpi-iphone.pcap":                     10,
	"ndpi-zoom.pcap":                       3,
	"zeek-erspanIII.pcap":                  2,
	"zeek-gre-erspan3-dot1q.pcap":          2,
	"zeek-quic-interop-handshake-ppp.pcap": 4,
	"zeek-teredo.pcap":                     3,
	"ndpi-doq.pcapng":                      6,
}

// TestICMPFlowsCorpus replays every capture of the corpus: the packets of
// its ICMP and ICMPv6 flow events must add up to tshark's ICMP frames, and
// an echo reply must share its request's flow.
func TestICMPFlowsCorpus(t *testing.T) {
	total, totalWant := 0, 0
	for _, path := range corpusFiles(t) {
		base := filepath.Base(path)
		got, flows, paired := 0, 0, 0
		for _, e := range replayEvents(t, path) {
			tr := str(e, "network.transport")
			if str(e, "event.dataset") != "egresswatch.flow" || tr != "icmp" && tr != "ipv6-icmp" {
				continue
			}
			n, _ := field(e, "network.packets").(float64)
			got += int(n)
			flows++
			if d, _ := field(e, "destination.packets").(float64); d > 0 {
				paired++
			}
		}
		want := tsharkICMPFrames[base]
		total, totalWant = total+got, totalWant+want
		if got != want {
			t.Errorf("%s: %d ICMP packets in %d flows; tshark has %d", base, got, flows, want)
		}
		if flows > 0 {
			t.Logf("%s: %d ICMP packets in %d flows (%d with replies)", base, got, flows, paired)
		}
	}
	t.Logf("ICMP packets in flows: %d; tshark: %d", total, totalWant)
}
