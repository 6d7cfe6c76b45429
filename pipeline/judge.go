package pipeline

import (
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// judge evaluates the policy at the moments the rules package defines
// (a flow starts, a flow gains a name, a device resolves a name), writes
// alerts through the suppressor, and feeds the report.
type judge struct {
	policy  *rules.Policy
	supp    *rules.Suppressor
	alerts  *output.Writer // nil: alerts are counted but not written
	report  *report.Builder
	matches []rules.Match
	closed  []rules.Summary
	in      rules.Input
	stats   JudgeStats
}

// JudgeStats counts alerts.
type JudgeStats struct {
	Evaluations uint64
	Alerts      uint64            // written
	Suppressed  uint64            // counted into a later summary
	ByRule      map[string]uint64 // written and suppressed, by rule id
}

func newJudge(p *rules.Policy, alerts *output.Writer, rep *report.Builder) *judge {
	return &judge{
		policy: p,
		supp:   rules.NewSuppressor(p.Suppress),
		alerts: alerts,
		report: rep,
		stats:  JudgeStats{ByRule: map[string]uint64{}},
	}
}

// flow evaluates a flow at start or when it has just been named.
func (j *judge) flow(w *Worker, f *track.Flow, kind rules.Kind) {
	fi := w.info(f)
	in := &j.in
	*in = rules.Input{
		Kind:      kind,
		Time:      f.Last,
		Src:       f.Key.Src.Addr(),
		SrcMAC:    f.SrcMAC,
		HasMAC:    f.HasMAC,
		VLANs:     f.VLAN[:f.NVLAN],
		Dst:       f.Key.Dst.Addr(),
		DstPort:   f.Key.Dst.Port(),
		Transport: f.Key.Proto,
		Name:      f.Name,
	}
	if p := w.place(f); p != nil {
		in.Place = *p
	}
	if f.NameSource != track.NameNone {
		in.NameSource = f.NameSource.String()
	}
	j.evaluate(f, fi)
}

// dnsQuery evaluates a device's DNS question: the device tried to reach
// the name, whether or not a connection follows.
func (j *judge) dnsQuery(w *Worker, f *track.Flow, name string) {
	fi := w.info(f)
	p := &w.pkt
	in := &j.in
	*in = rules.Input{
		Kind:       rules.KindDNSQuery,
		Time:       p.Time,
		Src:        p.Key.Src.Addr(),
		SrcMAC:     p.SrcMAC,
		HasMAC:     p.HasMAC,
		VLANs:      p.VLAN[:p.NVLAN],
		Name:       name,
		NameSource: "dns",
	}
	j.evaluate(nil, fi)
}

func (j *judge) evaluate(f *track.Flow, fi *flowInfo) {
	j.stats.Evaluations++
	in := &j.in
	j.matches = j.policy.Evaluate(in, j.matches[:0])
	for i := range j.matches {
		m := &j.matches[i]
		svc := m.Service
		if svc == "" {
			svc = m.DstService
		}
		// One alert per rule and service for a flow: a flow that alerts at
		// its start and again once named adds only what is new.
		key := m.Rule.ID + "\x00" + svc + "\x00" + in.Name
		if fi.alerted(key) {
			continue
		}
		emit, closed := j.supp.Admit(rules.SuppressKey{Rule: m.Rule.ID, Device: in.Src, Service: svc, Country: m.Country}, in.Time, j.closed[:0])
		j.closed = closed
		j.summaries()
		j.stats.ByRule[m.Rule.ID]++
		if !emit {
			j.stats.Suppressed++
			continue
		}
		j.stats.Alerts++
		if j.alerts != nil {
			ev := output.Evidence{FirstSeen: in.Time, LastSeen: in.Time}
			if f != nil {
				ev.FirstSeen = f.First
			}
			j.alerts.Alert(m, in, f, ev)
		}
		if j.report != nil {
			j.report.AddAlert(report.Alert{Rule: m.Rule.ID, Groups: m.Groups, Service: svc, Country: m.Country, Device: in.Src, Time: in.Time, Count: 1})
		}
	}
}

// summaries writes the summaries of suppression windows that closed.
func (j *judge) summaries() {
	for _, s := range j.closed {
		if s.Suppressed == 0 {
			continue
		}
		if j.alerts != nil {
			j.alerts.AlertSummary(s, j.policy.Rule(s.Key.Rule))
		}
		if j.report != nil {
			// The summary keeps no MAC or VLAN: groups by address only.
			groups := j.policy.Groups(s.Key.Device, [6]byte{}, false, nil, nil)
			j.report.AddAlert(report.Alert{Rule: s.Key.Rule, Groups: groups, Service: s.Key.Service, Country: s.Key.Country, Device: s.Key.Device, Time: s.Last, Count: s.Suppressed})
		}
	}
	j.closed = j.closed[:0]
}

// flush closes every open suppression window at the end of a run.
func (j *judge) flush() {
	j.closed = j.supp.Flush(j.closed[:0])
	j.summaries()
}

// flowEnded adds an egress flow to the report.
func (j *judge) flowEnded(w *Worker, f *track.Flow) {
	if j.report == nil || j.policy.IsInternal(f.Key.Dst.Addr()) {
		return
	}
	p := w.place(f)
	if p == nil {
		p = &geo.Placement{}
	}
	groups := j.policy.Groups(f.Key.Src.Addr(), f.SrcMAC, f.HasMAC, f.VLAN[:f.NVLAN], nil)
	j.report.AddFlow(report.FlowSummary{
		Groups:        groups,
		Service:       j.policy.Service(f.Name, f.Key.Dst.Addr(), p.ASN),
		Country:       p.Country,
		Indeterminate: p.Indeterminate,
		Reason:        p.Reason,
		Dst:           f.Key.Dst.Addr(),
		Name:          f.Name,
		Device:        f.Key.Src.Addr(),
		Bytes:         f.Bytes[0] + f.Bytes[1],
		Packets:       f.Packets[0] + f.Packets[1],
		First:         f.First,
		Last:          f.Last,
	})
}
