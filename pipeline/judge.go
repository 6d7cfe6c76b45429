package pipeline

import (
	"sync/atomic"

	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/report"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// judge evaluates the policy at the moments the rules package defines
// (a flow starts, a flow gains a name, a device resolves a name), writes
// alerts through the suppressor, and feeds the report. It runs in the
// merger, in frame order, so its decisions do not depend on the number of
// workers.
type judge struct {
	policy  *atomic.Pointer[rules.Policy]
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
	Alerts      uint64 // written
	Suppressed  uint64 // counted into a later summary
	// SuppressWindows is how many suppression windows are open;
	// SuppressEvicted how many were closed early because the table (sized
	// from Config.Memory) was full.
	SuppressWindows int
	SuppressEvicted uint64
	ByRule          map[string]uint64 // written and suppressed, by rule id
}

func newJudge(p *atomic.Pointer[rules.Policy], alerts *output.Writer, rep *report.Builder, maxKeys int) *judge {
	return &judge{
		policy: p,
		supp:   rules.NewSuppressorCap(p.Load().Suppress, maxKeys),
		alerts: alerts,
		report: rep,
		stats:  JudgeStats{ByRule: map[string]uint64{}},
	}
}

// flow evaluates a flow; m carries its name (the merger fills in the
// passive DNS name when the worker had none).
func (j *judge) flow(m *track.FlowMeta, fs *flowState, kind rules.Kind) {
	in := &j.in
	*in = rules.Input{
		Kind:      kind,
		Time:      m.Last,
		Src:       m.Key.Src.Addr(),
		SrcMAC:    m.SrcMAC,
		HasMAC:    m.HasMAC,
		VLANs:     m.VLAN[:m.NVLAN],
		Dst:       m.Key.Dst.Addr(),
		DstPort:   m.Key.Dst.Port(),
		Transport: m.Key.Proto,
		Name:      m.Name,
		Place:     fs.place,
	}
	if m.NameSource != track.NameNone {
		in.NameSource = m.NameSource.String()
	}
	j.evaluate(m, fs)
}

// dnsQuery evaluates a device's DNS question: the device tried to reach
// the name, whether or not a connection follows.
func (j *judge) dnsQuery(d *dnsFacts, fs *flowState) {
	in := &j.in
	*in = rules.Input{
		Kind:       rules.KindDNSQuery,
		Time:       d.time,
		Src:        d.src,
		SrcMAC:     d.mac,
		HasMAC:     d.hasMAC,
		VLANs:      d.vlan[:d.nvlan],
		Name:       d.qname,
		NameSource: "dns",
	}
	j.evaluate(nil, fs)
}

func (j *judge) evaluate(m *track.FlowMeta, fs *flowState) {
	j.stats.Evaluations++
	in := &j.in
	pol := j.policy.Load()
	j.matches = pol.Evaluate(in, j.matches[:0])
	for i := range j.matches {
		mt := &j.matches[i]
		svc := mt.Service
		if svc == "" {
			svc = mt.DstService
		}
		// One alert per rule and service for a flow: a flow that alerts at
		// its start and again once named adds only what is new.
		key := mt.Rule.ID + "\x00" + svc + "\x00" + in.Name
		if fs.alerted(key) {
			continue
		}
		emit, closed := j.supp.Admit(rules.SuppressKey{Rule: mt.Rule.ID, Device: in.Src, Service: svc, Country: mt.Country}, in.Time, j.closed[:0])
		j.closed = closed
		j.summaries()
		j.stats.ByRule[mt.Rule.ID]++
		if !emit {
			j.stats.Suppressed++
			continue
		}
		j.stats.Alerts++
		if j.alerts != nil {
			ev := output.Evidence{FirstSeen: in.Time, LastSeen: in.Time}
			if m != nil {
				ev.FirstSeen = m.First
			}
			j.alerts.Alert(mt, in, m, ev)
		}
		if j.report != nil {
			j.report.AddAlert(report.Alert{Rule: mt.Rule.ID, Groups: mt.Groups, Service: svc, Country: mt.Country, Device: in.Src, Time: in.Time, Count: 1})
		}
	}
}

// summaries writes the summaries of suppression windows that closed.
func (j *judge) summaries() {
	pol := j.policy.Load()
	for _, s := range j.closed {
		if s.Suppressed == 0 {
			continue
		}
		if j.alerts != nil {
			j.alerts.AlertSummary(s, pol.Rule(s.Key.Rule))
		}
		if j.report != nil {
			// The summary keeps no MAC or VLAN: groups by address only.
			groups := pol.Groups(s.Key.Device, [6]byte{}, false, nil, nil)
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
func (j *judge) flowEnded(m *track.FlowMeta, fs *flowState) {
	pol := j.policy.Load()
	if j.report == nil || pol.IsInternal(m.Key.Dst.Addr()) {
		return
	}
	p := &fs.place
	if !fs.placed {
		p = &geo.Placement{}
	}
	groups := pol.Groups(m.Key.Src.Addr(), m.SrcMAC, m.HasMAC, m.VLAN[:m.NVLAN], nil)
	j.report.AddFlow(report.FlowSummary{
		Groups:        groups,
		Service:       pol.Service(m.Name, m.Key.Dst.Addr(), p.ASN),
		Country:       p.Country,
		Indeterminate: p.Indeterminate,
		Reason:        p.Reason,
		Dst:           m.Key.Dst.Addr(),
		Name:          m.Name,
		Device:        m.Key.Src.Addr(),
		Bytes:         m.Bytes[0] + m.Bytes[1],
		Packets:       m.Packets[0] + m.Packets[1],
		First:         m.First,
		Last:          m.Last,
	})
}
