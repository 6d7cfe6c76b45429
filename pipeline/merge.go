package pipeline

import (
	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/evidence"
	"github.com/egresswatch/egresswatch/flow"
	"github.com/egresswatch/egresswatch/geo"
	"github.com/egresswatch/egresswatch/output"
	"github.com/egresswatch/egresswatch/rules"
	"github.com/egresswatch/egresswatch/track"
)

// merger takes the workers' messages in frame order and does everything
// that needs one view of the whole capture: naming from passive DNS (a
// DNS answer seen by one worker names a flow held by another), judging
// the policy, and writing events, alerts and the report. It is
// single-threaded.
type merger struct {
	namer  *track.Namer
	judge  *rules.Judge   // nil without a policy
	events *output.Writer // nil: no events
	alerts *output.Writer // nil: alerts are counted, not written
	report *output.Report // nil: no report
	// evidence records the packets of alerted flows; nil: none.
	evidence *evidence.Recorder
	// devices binds addresses to devices (DHCP, NBNS, LLMNR, mDNS, the
	// inventory); flows are identified from it at their start.
	devices *track.Bindings
	flows   map[uint64]*flowState // by track.FlowMeta.ID, from start to end
	free    []*flowState

	// namedBy counts flows when they are named, by the source that named
	// them first, so the figure is current while a long run goes on and
	// never goes down (a Prometheus counter): a flow renamed later (DNS,
	// then SNI) is not counted again nor moved.
	namedBy [flow.NumNameSources]uint64
	in      rules.Input      // the judge's input, reused
	ein     rules.Input      // the egress verdict's input: only what it reads
	egress  rules.EgressMemo // the egress verdicts at flows' ends
}

// flowState is what the merger keeps with each flow while it lives.
type flowState struct {
	place   geo.Placement // zero when placed is false
	placed  bool
	naming  track.Naming
	judging rules.FlowJudging
	device  *flow.Identity // the initiator's, nil when unknown
	known   bool           // device was looked up
	counted bool           // in namedBy
}

// handle takes one message: name the flow (passive DNS, real ECH, DoH),
// write the observation's event, learn from DNS answers, judge, and emit
// what the judge raised and what ended.
func (m *merger) handle(msg *message) {
	meta, obs := &msg.meta, msg.obs
	if msg.step == stepPacket {
		fr := &msg.frame
		m.evidence.Packet(meta.ID, meta.Key, meta.First, fr.Data, fr.Time, fr.WireLen, fr.LinkType)
		return
	}
	fs := m.state(msg)
	m.identify(fs, meta)

	// Name.
	switch msg.step {
	case stepStart:
		m.namer.Start(&fs.naming, meta)
	case stepObserve:
		if msg.renamed || (obs != nil && obs.Hello != nil) {
			m.namer.Hello(&fs.naming, meta, fs.place.ASN)
		}
	}

	// The observation's event, with the notes only the merger can decide
	// (real ECH, DoH) and the name the observation saw.
	if obs != nil {
		if m.events != nil {
			ev := *meta
			if obs.Hello != nil {
				m.namer.Notes(&fs.naming, &ev)
			}
			m.events.Observation(obs, &ev, fs.placement())
		}
		if obs.App == classify.AppDNS {
			m.namer.Learn(obs.DNS, obs.Packet.Time)
		} else if obs.App >= classify.AppDHCP {
			m.devices.Learn(obs)
		}
	}

	// Judge.
	named := m.namer.Name(&fs.naming, meta)
	if named && !fs.counted {
		fs.counted = true
		m.namedBy[meta.NameSource]++
	}
	if m.judge != nil {
		switch {
		case msg.step == stepStart:
			m.emit(m.judge.Flow(&fs.judging, rules.MomentStart, m.flowInput(meta, fs)), meta)
		case msg.step == stepObserve && msg.renamed:
			m.emit(m.judge.Flow(&fs.judging, rules.MomentNamed, m.flowInput(meta, fs)), meta)
		case msg.step == stepSettle:
			m.emit(m.judge.Flow(&fs.judging, rules.MomentSettled, m.flowInput(meta, fs)), meta)
		case msg.step == stepEnd:
			m.emit(m.judge.Flow(&fs.judging, rules.MomentEnded, m.flowInput(meta, fs)), meta)
		}
		if obs != nil && obs.App == classify.AppDNS && !obs.DNS.Response && obs.DNS.QName != "" {
			m.emit(m.judge.DNSQuery(&fs.judging, m.dnsQueryInput(obs)), nil)
		}
	}

	// Emit what ended.
	if msg.step == stepEnd {
		m.ended(meta, fs)
	}
}

// state returns the merger's state of the message's flow: new at its
// start, forgotten (and reused) after its end.
func (m *merger) state(msg *message) *flowState {
	id := msg.meta.ID
	if msg.step == stepStart {
		var fs *flowState
		if n := len(m.free); n > 0 {
			fs, m.free = m.free[n-1], m.free[:n-1]
		} else {
			fs = new(flowState)
		}
		if msg.place != nil {
			fs.place, fs.placed = *msg.place, true
		}
		m.flows[id] = fs
		return fs
	}
	fs := m.flows[id]
	if msg.step == stepEnd {
		delete(m.flows, id)
	}
	return fs
}

// ended writes a flow's summary event and feeds the report, then frees its
// state.
func (m *merger) ended(meta *track.FlowMeta, fs *flowState) {
	if m.events != nil {
		m.events.Flow(meta, fs.placement())
	}
	if m.report != nil {
		m.report.Flow(meta, fs.placement(), m.egress.Egress(m.judge.Policy(), m.egressInput(meta, fs)))
	}
	if m.evidence != nil {
		m.evidence.End(meta.ID)
	}
	*fs = flowState{}
	m.free = append(m.free, fs)
}

// emit writes alerts and feeds them to the report. meta is the flow they
// are about; nil for a DNS question or a suppression summary.
func (m *merger) emit(alerts []rules.Alert, meta *track.FlowMeta) {
	for i := range alerts {
		a := &alerts[i]
		f := meta
		if a.Summary != nil {
			f = nil
		}
		var file string
		if m.evidence != nil && f != nil {
			file = m.evidence.Alert(f.ID, f.Key, f.First, a.Match.Rule.ID)
		}
		if m.alerts != nil {
			m.alerts.SetPolicyRevision(m.judge.Policy().Revision)
			m.alerts.Alert(a, f, file)
		}
		if m.report != nil {
			m.report.Alert(a, f, file)
		}
	}
}

// flush closes the judge's suppression windows at the end of a run.
func (m *merger) flush() {
	if m.judge != nil {
		m.emit(m.judge.Flush(), nil)
	}
}

func (fs *flowState) placement() *geo.Placement {
	if !fs.placed {
		return nil
	}
	return &fs.place
}

// flowInput describes a flow, as meta names it, to the judge. The Input
// is the merger's, reused by the next call.
func (m *merger) flowInput(meta *track.FlowMeta, fs *flowState) *rules.Input {
	m.in = rules.Input{
		Time:       meta.Last,
		First:      meta.First,
		Src:        meta.Key.Src.Addr(),
		Device:     meta.Device,
		Dst:        meta.Key.Dst.Addr(),
		DstPort:    meta.Key.Dst.Port(),
		Transport:  meta.Key.Proto,
		Name:       meta.Name,
		NameSource: meta.NameSource,
		Place:      fs.place,
	}
	return &m.in
}

// egressInput describes a flow to Policy.Egress: the fields it reads
// (flowInput's copy of the whole placement costs more than the verdict).
func (m *merger) egressInput(meta *track.FlowMeta, fs *flowState) *rules.Input {
	in := &m.ein
	in.Src, in.Device, in.Dst, in.Name = meta.Key.Src.Addr(), meta.Device, meta.Key.Dst.Addr(), meta.Name
	in.Place.ASN = fs.place.ASN
	return in
}

// dnsQueryInput describes a device's DNS question to the judge, like
// flowInput.
func (m *merger) dnsQueryInput(o *classify.Observation) *rules.Input {
	p := o.Packet
	m.in = rules.Input{
		Time:       p.Time,
		Src:        p.Key.Src.Addr(),
		Device:     p.Sender,
		Name:       o.DNS.QName,
		NameSource: flow.NameDNS,
	}
	m.in.Device.ID = m.devices.Identify(m.in.Src, p.Time, &m.in.Device)
	return &m.in
}

// identify gives the flow its initiator's identity from the binding
// table, looked up at the flow's start: the device that held the address
// then, even if the address is leased to another before the flow ends.
// meta carries it from here on, to events, the judge and the report.
func (m *merger) identify(fs *flowState, meta *track.FlowMeta) {
	if fs == nil {
		return
	}
	if !fs.known {
		fs.device = m.devices.Identify(meta.Key.Src.Addr(), meta.First, &meta.Device)
		fs.known = true
	}
	meta.Device.ID = fs.device
}
