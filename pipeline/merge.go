package pipeline

import (
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// merger takes the workers' records in frame order and does everything
// that needs one view of the whole capture: the passive DNS cache (a DNS
// answer seen by one worker names a flow held by another), policy
// evaluation and suppression, the report, and writing events and alerts.
// It is single-threaded.
type merger struct {
	names   *track.Names
	judge   *judge // nil without a policy
	events  *output.Writer
	namedBy [5]uint64
}

func (m *merger) handle(r *record, arena []byte) {
	switch r.kind {
	case recEvent:
		if m.events != nil {
			m.events.Line(arena[r.lineAt : r.lineAt+r.lineLen])
		}
	case recFlowStart:
		meta := &r.meta
		if name, ok := m.names.Lookup(meta.Key.Dst.Addr(), meta.First); ok {
			r.fs.dnsName = name
		}
		if m.judge == nil {
			return
		}
		// A flow is judged once it has a name, or once naming it is
		// hopeless: the ClientHello or Host usually comes a few packets
		// after the SYN, and an alert should carry it.
		if m.withName(meta, r.fs) {
			m.judge.flow(meta, r.fs, rules.KindFlowStart)
		} else {
			r.fs.pending = true
		}
	case recFlowNamed:
		if m.judge == nil {
			return
		}
		kind := rules.KindFlowNamed
		if r.fs.pending {
			r.fs.pending, kind = false, rules.KindFlowStart // the deferred first judgement, now with a name
		}
		m.judge.flow(&r.meta, r.fs, kind)
	case recFlowSettle:
		if m.judge != nil && r.fs.pending {
			r.fs.pending = false
			m.withName(&r.meta, r.fs)
			m.judge.flow(&r.meta, r.fs, rules.KindFlowStart)
		}
	case recFlowEnd:
		meta := &r.meta
		m.withName(meta, r.fs)
		if meta.NameSource != track.NameNone {
			m.namedBy[meta.NameSource]++
		}
		if m.judge != nil && r.fs.pending {
			r.fs.pending = false
			m.judge.flow(meta, r.fs, rules.KindFlowStart)
		}
		if m.events != nil {
			var place = &r.fs.place
			if !r.fs.placed {
				place = nil
			}
			m.events.Flow(meta, place)
		}
		if m.judge != nil {
			m.judge.flowEnded(meta, r.fs)
		}
	case recDNS:
		d := r.dns
		if !d.response {
			if m.judge != nil {
				m.judge.dnsQuery(d, r.fs)
			}
			return
		}
		for _, a := range d.addrs {
			m.names.Add(a.addr, d.qname, a.ttl, d.time)
		}
	}
}

// withName gives an unnamed flow the name passive DNS had for it at its
// start, and reports whether the flow has a name.
func (m *merger) withName(meta *track.FlowMeta, fs *flowState) bool {
	if meta.NameSource == track.NameNone && fs.dnsName != "" {
		meta.Name, meta.NameSource = fs.dnsName, track.NameDNS
	}
	return meta.NameSource != track.NameNone
}
