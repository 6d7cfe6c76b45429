package output

import (
	"net/netip"
	"testing"
	"time"

	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

func TestAlertEvents(t *testing.T) {
	rule := &rules.Rule{ID: "gov-eu", Name: "Government devices stay in the EU", Severity: rules.SeverityHigh}
	cases := []struct {
		name   string
		flow   *track.FlowMeta
		in     rules.Input
		m      rules.Match
		pcap   string
		want   want
		absent []string
	}{
		{
			name: "flow alert",
			flow: testFlow(flow.TCP, "10.0.0.1:50000", "52.1.2.3:443"),
			in: rules.Input{Time: t0, Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("52.1.2.3"),
				DstPort: 443, Transport: flow.TCP, Name: "api.example.com", NameSource: flow.NameSNI, Place: *testPlace()},
			m:    rules.Match{Rule: rule, Groups: []string{"gov"}, Service: "example", Allowed: []string{"EU"}, Country: "US", Severity: rules.SeverityHigh},
			pcap: "20240301T120000Z-10.0.0.1-52.1.2.3-7.pcapng",
			want: want{
				"egresswatch.evidence.pcap":             "20240301T120000Z-10.0.0.1-52.1.2.3-7.pcapng",
				"event.kind":                            "alert",
				"event.dataset":                         DatasetAlert,
				"rule.id":                               "gov-eu",
				"source.ip":                             "10.0.0.1",
				"source.mac":                            "02-AB-CD-EF-0A-1B",
				"destination.ip":                        "52.1.2.3",
				"destination.geo.country_iso_code":      "IE",
				"cloud.provider":                        "aws",
				"egresswatch.group":                     []any{"gov"},
				"egresswatch.allowed":                   []any{"EU"},
				"egresswatch.placement.indeterminate":   true,
				"egresswatch.evidence.suppressed_count": 0,
				"egresswatch.evidence.last_seen":        "2024-03-01T12:01:00.123456789Z",
				"egresswatch.evidence.name_source":      "sni",
			},
		},
		{
			name: "dns-only alert without answer",
			in: rules.Input{Time: t0, Src: netip.MustParseAddr("10.0.0.1"), Device: flow.Device{HasMAC: true, MAC: [6]byte{0xaa, 1, 2, 3, 4, 5},
				VLAN: [2]uint16{100, 200}, NVLAN: 2}, Name: "evil\"name.example", NameSource: flow.NameDNS},
			m: rules.Match{Rule: rule, DNSOnly: true, Indeterminate: true, Severity: rules.SeverityHigh},
			want: want{
				"source.ip":                 "10.0.0.1",
				"source.mac":                "AA-01-02-03-04-05",
				"destination.domain":        "evil\"name.example",
				"network.vlan.id":           100,
				"egresswatch.dns_only":      true,
				"egresswatch.indeterminate": true,
			},
			absent: []string{"destination.ip", "cloud"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, line := writeOne(t, func(w *Writer) {
				in := c.in
				in.Time = t0.Add(time.Minute)
				w.Alert(&rules.Alert{Match: c.m, Input: in, FirstSeen: t0}, c.flow, c.pcap)
			})
			checkFields(t, m, line, c.want, c.absent)
		})
	}
}

func TestAlertSummaryEvent(t *testing.T) {
	s := rules.Summary{First: t0, Last: t0.Add(time.Hour), Suppressed: 17, Evicted: true}
	s.Key.Rule, s.Key.Device, s.Key.Service, s.Key.Country = "gov-eu", netip.MustParseAddr("10.0.0.1"), "example", "US"
	m, line := writeOne(t, func(w *Writer) { w.Alert(&rules.Alert{Summary: &s}, nil, "") })
	checkFields(t, m, line, want{
		"event.action":                          "suppressed-summary",
		"rule.id":                               "gov-eu",
		"source.ip":                             "10.0.0.1",
		"egresswatch.evidence.suppressed_count": 17,
		"egresswatch.evidence.window_evicted":   true,
	}, []string{"event.severity", "rule.name"})
}
