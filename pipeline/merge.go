package pipeline

import (
	"github.com/egresswatch/egresswatch/classify"
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
	buf     []byte // a hello event line with the merger's notes
}

func (m *merger) handle(r *record, arena []byte) {
	switch r.kind {
	case recEvent:
		line := arena[r.lineAt : r.lineAt+r.lineLen]
		if r.hello {
			// The worker wrote the notes it could know (DoT, DoQ); real
			// ECH and DoH need the passive DNS cache and the policy.
			meta := &r.meta
			m.hello(meta, r.fs)
			hidden, blind := meta.NameHidden, meta.BlindSpot
			m.withName(meta, r.fs)
			if (meta.NameHidden != hidden || meta.BlindSpot != blind) && m.events != nil {
				m.buf = output.ReplaceNotes(m.buf[:0], line, r.notesAt, r.notesEnd, meta)
				line = m.buf
			}
		}
		if m.events != nil {
			m.events.Line(line)
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
		m.hello(&r.meta, r.fs)
		if m.judge == nil {
			return
		}
		m.withName(&r.meta, r.fs)
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
		for _, n := range d.echNames {
			m.names.AddECHPublicName(n)
		}
	}
}

// hello decides, once a ClientHello has named the flow (or set its ECH
// flag), what only the merger can: whether its ECH is real, and whether
// it is DNS over HTTPS.
//
// Real and GREASE ECH are alike on the wire (Chrome sends GREASE ECH
// with the true server_name), so the evidence is the name: a real ECH
// hello carries the provider's public name, which egresswatch knows from
// the ech parameter of a DNS HTTPS answer or from a short well-known list
// (track.Names.IsECHPublicName). The public name is shared by every site
// behind the provider and says nothing about which one the client meant,
// so withName then prefers the passive DNS name for the destination: the
// name the client resolved to reach this address.
//
// DoH shares port 443 with all HTTPS; it is told by its destination, a
// resolver of the policy's encrypted-dns service (built in, extendable in
// the policy), by name or address.
func (m *merger) hello(meta *track.FlowMeta, fs *flowState) {
	if meta.ECH && !fs.echHidden && (meta.NameSource == track.NameSNI || meta.NameSource == track.NameQUIC) &&
		m.names.IsECHPublicName(meta.Name) {
		fs.echHidden = true
	}
	if fs.blind == classify.BlindNone && meta.BlindSpot == classify.BlindNone && m.judge != nil &&
		meta.Key.Dst.Port() == 443 {
		name := meta.Name
		if meta.NameSource == track.NameDNS {
			name = "" // the worker's meta has no DNS name; keep the test to what the hello showed
		}
		if m.judge.policy.Load().Service(name, meta.Key.Dst.Addr(), fs.place.ASN) == encryptedDNSService {
			fs.blind = classify.BlindDoH
		}
	}
}

// encryptedDNSService is the built-in service of public DNS-over-HTTPS,
// TLS and QUIC resolvers (rules/builtin_services.go).
const encryptedDNSService = "encrypted-dns"

// withName gives an unnamed flow the name passive DNS had for it at its
// start, and reports whether the flow has a name.
func (m *merger) withName(meta *track.FlowMeta, fs *flowState) bool {
	if fs.echHidden {
		meta.NameHidden = true
		if fs.dnsName != "" {
			meta.Name, meta.NameSource = fs.dnsName, track.NameDNS
		}
	}
	if meta.BlindSpot == classify.BlindNone {
		meta.BlindSpot = fs.blind
	}
	if meta.NameSource == track.NameNone && fs.dnsName != "" {
		meta.Name, meta.NameSource = fs.dnsName, track.NameDNS
	}
	return meta.NameSource != track.NameNone
}
