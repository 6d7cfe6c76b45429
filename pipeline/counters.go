package pipeline

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/egresswatch/egresswatch/flow"
)

// Counter describes one number of a Summary: how Prometheus names it, and
// where the end-of-run summary on stderr prints it. Every counter is
// declared once, as a row of the counters table below; from that row the
// metrics package exports it, WriteText prints it, and the engine sums it
// over the workers. The stages keep incrementing plain struct fields
// (d.Stats.Frames++); a row only says how to reach the field.
//
// A new counter is a field in its stage's stats struct plus one row here.
type Counter struct {
	// Metric is the Prometheus name after "egresswatch_"; "" exports
	// nothing. Rows of one metric differ by LabelValue; the first of them
	// carries Help.
	Metric     string
	Help       string
	Label      string // label name; "" for an unlabelled metric
	LabelValue string // this row's value of Label; "" for a keyed family

	// Line is the summary line the counter is printed on (LineNone: not
	// printed), and Text its part of that line, separator included:
	// ", tunnelled %d". A keyed family's Text gets the total as %[1]d and
	// the "key n, key n" list as %[2]s.
	Line Line
	Text string

	// Exactly one of these reaches the value in a Summary.
	u64   func(*Summary) *uint64
	gauge func(*Summary) *int
	keyed func(*Summary) map[string]uint64
	keys  []string // a keyed family's keys always exported (zero or not)
}

// Line is a line of the end-of-run summary.
type Line uint8

const (
	LineNone Line = iota // zero value: not printed
	LineFlows
	LineMessages
	LineDecode
	LinePolicy // printed only when the policy was evaluated
	LineStreams
	numLines
)

// lineHeads start the summary lines.
var lineHeads = [numLines]string{
	LineFlows:    "  ",
	LineMessages: "  ",
	LineDecode:   "  decode: ",
	LinePolicy:   "  policy: ",
	LineStreams:  "  streams: ",
}

// counters is the table. Rows are in summary order: by Line, then as
// printed on the line.
var counters = []Counter{
	{Metric: "flows_total", Help: "Flows created.",
		Line: LineFlows, Text: "flows %d", u64: func(s *Summary) *uint64 { return &s.Flows.Flows }},
	{Metric: "names_total", Help: "Flows named, counted when named, by the name source that named them first (sni, quic, http, dns).", Label: "source",
		Line: LineFlows, Text: " (named %[1]d: %[2]s)", keyed: func(s *Summary) map[string]uint64 { return s.NamedBy }, keys: nameSources()},
	{Metric: "flow_evictions_total", Help: "Flows ended early because a flow table was full.",
		Line: LineFlows, Text: "; evicted %d", u64: func(s *Summary) *uint64 { return &s.Flows.Evicted }},
	{Metric: "flows_expired_total", Help: "Flows ended by idle timeout.",
		Line: LineFlows, Text: ", expired %d", u64: func(s *Summary) *uint64 { return &s.Flows.Expired }},

	{Metric: "messages_total", Help: "Application messages parsed, by protocol.", Label: "protocol", LabelValue: "dns",
		Line: LineMessages, Text: "dns messages %d", u64: func(s *Summary) *uint64 { return &s.Inspect.DNSMessages }},
	{Metric: "messages_total", Label: "protocol", LabelValue: "tls",
		Line: LineMessages, Text: ", tls hellos %d", u64: func(s *Summary) *uint64 { return &s.Inspect.TLSHellos }},
	{Metric: "messages_total", Label: "protocol", LabelValue: "quic",
		Line: LineMessages, Text: ", quic hellos %d", u64: func(s *Summary) *uint64 { return &s.Inspect.QUICHellos }},
	{Metric: "messages_total", Label: "protocol", LabelValue: "http",
		Line: LineMessages, Text: ", http requests %d", u64: func(s *Summary) *uint64 { return &s.Inspect.HTTPRequests }},
	{Metric: "events_total", Help: "ECS events written.",
		Line: LineMessages, Text: "; events written %d", u64: func(s *Summary) *uint64 { return &s.Events }},

	{Metric: "decode_errors_total", Help: "Frames that could not be decoded, by reason.", Label: "reason", LabelValue: "malformed",
		Line: LineDecode, Text: "malformed %d", u64: func(s *Summary) *uint64 { return &s.Decode.Malformed }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "unknown_link",
		Line: LineDecode, Text: ", unknown link type %d", u64: func(s *Summary) *uint64 { return &s.Decode.UnknownLink }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "non_ip",
		Line: LineDecode, Text: ", non-IP %d", u64: func(s *Summary) *uint64 { return &s.Decode.NonIP }},
	{Metric: "tunnelled_packets_total", Help: "Packets decapsulated from a tunnel (GRE, VXLAN, Geneve, ERSPAN, ...).",
		Line: LineDecode, Text: ", tunnelled %d", u64: func(s *Summary) *uint64 { return &s.Decode.Tunnelled }},
	{Metric: "ip_fragments_total", Help: "IP fragments, by outcome.", Label: "outcome", LabelValue: "seen",
		Line: LineDecode, Text: ", IP fragments %d", u64: func(s *Summary) *uint64 { return &s.Decode.Fragments }},
	{Metric: "ip_fragments_total", Label: "outcome", LabelValue: "reassembled",
		Line: LineDecode, Text: " (reassembled %d", u64: func(s *Summary) *uint64 { return &s.Decode.Reassembled }},
	{Metric: "ip_fragments_total", Label: "outcome", LabelValue: "dropped",
		Line: LineDecode, Text: ", dropped %d)", u64: func(s *Summary) *uint64 { return &s.Decode.FragEvicted }},

	{Metric: "policy_evaluations_total", Help: "Policy evaluations.",
		Line: LinePolicy, Text: "%d evaluations", u64: func(s *Summary) *uint64 { return &s.Judge.Evaluations }},
	{Metric: "alerts_written_total", Help: "Alerts written.",
		Line: LinePolicy, Text: ", %d alerts written", u64: func(s *Summary) *uint64 { return &s.Judge.Alerts }},
	{Metric: "alerts_suppressed_total", Help: "Alerts counted into a later suppression summary.",
		Line: LinePolicy, Text: ", %d suppressed", u64: func(s *Summary) *uint64 { return &s.Judge.Suppressed }},
	{Metric: "alerts_total", Help: "Alerts raised (written or suppressed), by rule.", Label: "rule",
		Line: LinePolicy, Text: " (%[2]s)", keyed: func(s *Summary) map[string]uint64 { return s.Judge.ByRule }},
	{Metric: "suppression_windows", Help: "Open alert suppression windows.",
		Line: LinePolicy, Text: "; suppression windows open %d", gauge: func(s *Summary) *int { return &s.Judge.SuppressWindows }},
	{Metric: "suppression_evictions_total", Help: "Suppression windows closed early at the table's cap (from --memory).",
		Line: LinePolicy, Text: " (evicted %d)", u64: func(s *Summary) *uint64 { return &s.Judge.SuppressEvicted }},

	{Metric: "decode_errors_total", Label: "reason", LabelValue: "dns_malformed",
		Line: LineStreams, Text: "malformed dns %d", u64: func(s *Summary) *uint64 { return &s.Inspect.DNSMalformed }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "tls_malformed",
		Line: LineStreams, Text: ", malformed tls %d", u64: func(s *Summary) *uint64 { return &s.Inspect.TLSMalformed }},
	{Metric: "stream_drops_total", Help: "TCP first-flight data given up, by reason.", Label: "reason", LabelValue: "overflow",
		Line: LineStreams, Text: ", buffer overflows %d", u64: func(s *Summary) *uint64 { return &s.Inspect.StreamOverflow }},
	{Metric: "stream_drops_total", Label: "reason", LabelValue: "out_of_order",
		Line: LineStreams, Text: ", out-of-order dropped %d", u64: func(s *Summary) *uint64 { return &s.Inspect.OOODropped }},
	{Metric: "stream_drops_total", Label: "reason", LabelValue: "memory_budget",
		Line: LineStreams, Text: ", over memory budget %d", u64: func(s *Summary) *uint64 { return &s.Inspect.BudgetRefused }},
	{Metric: "passive_dns_entries", Help: "Entries in the passive DNS cache.",
		Line: LineStreams, Text: "; passive dns %d entries", gauge: func(s *Summary) *int { return &s.Names.Entries }},
	{Metric: "passive_dns_evictions_total", Help: "Passive DNS entries evicted at the cache's cap.",
		Line: LineStreams, Text: " (evicted %d)", u64: func(s *Summary) *uint64 { return &s.Names.Evicted }},

	// Exported, not printed.
	{Metric: "packets_total", Help: "Frames read from the capture.", u64: func(s *Summary) *uint64 { return &s.Decode.Frames }},
	{Metric: "packets_l4_total", Help: "Frames decoded down to TCP, UDP or another transport.", u64: func(s *Summary) *uint64 { return &s.Decode.L4 }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "too_deep", u64: func(s *Summary) *uint64 { return &s.Decode.TooDeep }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "unknown_tunnel",
		Line: LineDecode, Text: "; tunnels not followed %d", u64: func(s *Summary) *uint64 { return &s.Decode.UnknownTunnel }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "wlan_undecoded",
		Line: LineDecode, Text: ", 802.11 frames not decoded %d", u64: func(s *Summary) *uint64 { return &s.Decode.WLANUndecoded }},
	{Metric: "messages_total", Label: "protocol", LabelValue: "gquic", u64: func(s *Summary) *uint64 { return &s.Inspect.GQUICHellos }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "quic_undecryptable", u64: func(s *Summary) *uint64 { return &s.Inspect.QUICUndecrypt }},
	{Metric: "flows_active", Help: "Flows in the flow tables.", gauge: func(s *Summary) *int { return &s.Flows.Active }},
	{Metric: "passive_dns_lookups_total", Help: "Passive DNS lookups, by result.", Label: "result", LabelValue: "hit", u64: func(s *Summary) *uint64 { return &s.Names.Hits }},
	{Metric: "passive_dns_lookups_total", Label: "result", LabelValue: "miss", u64: func(s *Summary) *uint64 { return &s.Names.Misses }},
	{Metric: "workers", Help: "Flow-sharded workers.", gauge: func(s *Summary) *int { return &s.Workers }},
	{Metric: "evidence_files_total", Help: "Evidence captures written (--evidence).", u64: func(s *Summary) *uint64 { return &s.Evidence.Files }},
	{Metric: "evidence_packets_total", Help: "Packets written to evidence captures.", u64: func(s *Summary) *uint64 { return &s.Evidence.Packets }},
	{Metric: "evidence_dropped_total", Help: "Evidence left out at a bound, by bound: packets past a flow's, flows past the total.", Label: "bound", LabelValue: "flow",
		u64: func(s *Summary) *uint64 { return &s.Evidence.OverFlow }},
	{Metric: "evidence_dropped_total", Label: "bound", LabelValue: "total", u64: func(s *Summary) *uint64 { return &s.Evidence.OverTotal }},
	{Metric: "evidence_write_errors_total", Help: "Evidence captures that could not be written.", u64: func(s *Summary) *uint64 { return &s.Evidence.WriteErrors }},

	// Device identity (classify/devices.go, track/devices.go).
	{Metric: "messages_total", Label: "protocol", LabelValue: "dhcp", u64: func(s *Summary) *uint64 { return &s.Inspect.DHCPMessages }},
	{Metric: "messages_total", Label: "protocol", LabelValue: "nbns", u64: func(s *Summary) *uint64 { return &s.Inspect.NBNSMessages }},
	{Metric: "messages_total", Label: "protocol", LabelValue: "llmnr", u64: func(s *Summary) *uint64 { return &s.Inspect.LLMNRMessages }},
	{Metric: "messages_total", Label: "protocol", LabelValue: "mdns", u64: func(s *Summary) *uint64 { return &s.Inspect.MDNSMessages }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "dhcp_malformed", u64: func(s *Summary) *uint64 { return &s.Inspect.DHCPMalformed }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "nbns_malformed", u64: func(s *Summary) *uint64 { return &s.Inspect.NBNSMalformed }},
	{Metric: "decode_errors_total", Label: "reason", LabelValue: "local_dns_malformed", u64: func(s *Summary) *uint64 { return &s.Inspect.LocalMalformed }},
	{Metric: "device_bindings_total", Help: "Device bindings made or renewed (DHCP, NBNS, LLMNR, mDNS).", u64: func(s *Summary) *uint64 { return &s.Devices.Learned }},
	{Metric: "device_bindings_ended_total", Help: "Device bindings ended, by reason.", Label: "reason", LabelValue: "released", u64: func(s *Summary) *uint64 { return &s.Devices.Ended }},
	{Metric: "device_bindings_ended_total", Label: "reason", LabelValue: "replaced", u64: func(s *Summary) *uint64 { return &s.Devices.Replaced }},
	{Metric: "device_bindings_ended_total", Label: "reason", LabelValue: "evicted", u64: func(s *Summary) *uint64 { return &s.Devices.Evicted }},

	// Summed over the workers only.
	{u64: func(s *Summary) *uint64 { return &s.Inspect.DNSPartial }},
}

// nameSources are the name sources a flow can be named by (every
// flow.NameSource but NameNone).
func nameSources() []string {
	var out []string
	for i := flow.NameNone + 1; int(i) < flow.NumNameSources; i++ {
		out = append(out, i.String())
	}
	return out
}

// Counters returns the table of counters, in summary order.
func Counters() []Counter { return slices.Clone(counters) }

// Gauge reports whether the value can go down (a table's size).
func (c *Counter) Gauge() bool { return c.gauge != nil }

// Each calls fn with the counter's value in s: once for a plain counter
// or gauge (label is c.LabelValue), once per key for a keyed family (in
// key order; c's fixed keys are always there, zero or not).
func (c *Counter) Each(s *Summary, fn func(label string, v uint64)) {
	switch {
	case c.u64 != nil:
		fn(c.LabelValue, *c.u64(s))
	case c.gauge != nil:
		fn(c.LabelValue, uint64(max(0, *c.gauge(s))))
	case c.keyed != nil:
		m := c.keyed(s)
		keys := c.keys
		if keys == nil {
			keys = sortedKeys(m)
		}
		for _, k := range keys {
			fn(k, m[k])
		}
	}
}

// add adds o's counters and gauges to s: the engine sums the workers'
// counts with it. Keyed families are kept by the merger, not summed.
func (s *Summary) add(o *Summary) {
	for i := range counters {
		c := &counters[i]
		switch {
		case c.u64 != nil:
			*c.u64(s) += *c.u64(o)
		case c.gauge != nil:
			*c.gauge(s) += *c.gauge(o)
		}
	}
}

// WriteText writes the counters' lines of the end-of-run summary, each
// indented by two spaces; the caller writes the first line (files,
// packets, time) and any of its own after these.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	for l := LineNone + 1; l < numLines; l++ {
		if l == LinePolicy && s.Judge.Evaluations == 0 {
			continue
		}
		b.WriteString(lineHeads[l])
		for i := range counters {
			if c := &counters[i]; c.Line == l {
				c.appendText(&b, s)
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (c *Counter) appendText(b *strings.Builder, s *Summary) {
	if c.keyed == nil {
		c.Each(s, func(_ string, v uint64) { fmt.Fprintf(b, c.Text, v) })
		return
	}
	m := c.keyed(s)
	var total uint64
	list := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		list = append(list, fmt.Sprintf("%s %d", k, m[k]))
		total += m[k]
	}
	fmt.Fprintf(b, c.Text, total, strings.Join(list, ", "))
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
