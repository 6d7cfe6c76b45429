package track

import (
	"net/netip"
	"time"

	"github.com/egresswatch/egresswatch/classify"
	"github.com/egresswatch/egresswatch/flow"
)

// Learn takes what an observation of the flow shows about its
// destination: the name a ClientHello or HTTP request carries (a stronger
// source replaces a weaker one), whether the hello offered ECH, and
// encrypted DNS that the hello alone reveals (DoT, DoQ). It reports
// whether the flow's name changed.
func (f *Flow) Learn(o *classify.Observation) (renamed bool) {
	switch o.App {
	case classify.AppTLS, classify.AppQUIC:
		switch o.NameHiding() {
		case classify.HidingECH:
			f.ECH = true
		case classify.HidingESNI:
			f.ESNI = true
		}
		if b := o.EncryptedDNS(); b != classify.BlindNone {
			f.BlindSpot = b
		}
		if sni := o.Hello.ServerName; sni != "" && !o.Hello.ServerNameIsIP {
			src := flow.NameSNI
			if o.App == classify.AppQUIC {
				src = flow.NameQUIC
			}
			return f.rename(sni, src)
		}
	case classify.AppHTTP:
		if o.HTTP.Host != "" && f.NameSource < flow.NameHTTP {
			return f.rename(o.HTTP.Host, flow.NameHTTP)
		}
	}
	return false
}

func (f *Flow) rename(name string, src flow.NameSource) bool {
	if src < f.NameSource || (name == f.Name && src == f.NameSource) {
		return false
	}
	f.Name, f.NameSource = name, src
	return true
}

// Namer names flows from what only a view of the whole capture in frame
// order knows: the passive DNS cache (an answer seen by one worker names a
// flow held by another), the ECH public names seen in DNS answers, and
// which destinations are encrypted-DNS resolvers. It is not safe for
// concurrent use.
type Namer struct {
	names *Names
	// encryptedDNS tells a DNS-over-HTTPS resolver by name, address or AS
	// number; nil recognises none.
	encryptedDNS func(name string, dst netip.Addr, asn uint32) bool
}

// NewNamer returns a Namer over the passive DNS cache names.
// encryptedDNS, if not nil, recognises DNS-over-HTTPS resolvers (the
// pipeline passes the policy's encrypted-dns service).
func NewNamer(names *Names, encryptedDNS func(name string, dst netip.Addr, asn uint32) bool) *Namer {
	return &Namer{names: names, encryptedDNS: encryptedDNS}
}

// Naming is what a Namer keeps for one flow. The zero value is a flow
// the Namer has not seen.
type Naming struct {
	dnsName   string             // the passive DNS name at the flow's start
	echHidden bool               // a hello's ECH is real: the true name is hidden
	blind     classify.BlindSpot // DoH, found by destination
}

// Start looks the flow's destination up in the passive DNS cache as of
// its first packet.
func (n *Namer) Start(st *Naming, m *FlowMeta) {
	if name, ok := n.names.Lookup(m.Key.Dst.Addr(), m.First); ok {
		st.dnsName = name
	}
}

// Hello decides, once a ClientHello has named the flow or set its ECH
// flag, what only a whole view can: whether its ECH is real, and whether
// it is DNS over HTTPS. asn is the destination's AS number.
//
// Real and GREASE ECH are alike on the wire (Chrome sends GREASE ECH with
// the true server_name), so the evidence is the name: a real ECH hello
// carries the provider's public name, known from the ech parameter of a
// DNS HTTPS answer or from a short well-known list
// (Names.IsECHPublicName). The public name is shared by every site behind
// the provider and says nothing about which one the client meant, so Name
// then prefers the passive DNS name: the name the client resolved to reach
// this address.
//
// DoH shares port 443 with all HTTPS; it is told by its destination, a
// known resolver, by the name the hello showed or by address.
func (n *Namer) Hello(st *Naming, m *FlowMeta, asn uint32) {
	if m.ECH && !st.echHidden && (m.NameSource == flow.NameSNI || m.NameSource == flow.NameQUIC) &&
		n.names.IsECHPublicName(m.Name) {
		st.echHidden = true
	}
	if m.ESNI {
		st.echHidden = true // ESNI has no GREASE form: the name is always encrypted
	}
	if st.blind == classify.BlindNone && m.BlindSpot == classify.BlindNone && n.encryptedDNS != nil &&
		m.Key.Dst.Port() == 443 {
		name := m.Name
		if m.NameSource == flow.NameDNS {
			name = "" // keep the test to what the hello showed
		}
		if n.encryptedDNS(name, m.Key.Dst.Addr(), asn) {
			st.blind = classify.BlindDoH
		}
	}
}

// Notes sets the flow's notes on m: NameHidden when its ECH is real, and
// the blind spot found by destination. m's name is left as it is: an
// observation's event keeps the name it saw.
func (n *Namer) Notes(st *Naming, m *FlowMeta) {
	if st.echHidden {
		m.NameHidden = true
	}
	if m.BlindSpot == classify.BlindNone {
		m.BlindSpot = st.blind
	}
}

// Name sets the notes (see Notes) and gives m its best name: the passive
// DNS name when the flow has no other, or when its ECH hides the true
// one. It reports whether the flow has a name.
func (n *Namer) Name(st *Naming, m *FlowMeta) bool {
	n.Notes(st, m)
	if st.dnsName != "" && (st.echHidden || m.NameSource == flow.NameNone) {
		m.Name, m.NameSource = st.dnsName, flow.NameDNS
	}
	return m.NameSource != flow.NameNone
}

// Learn records a DNS response seen at t: each address it answers for
// its question's name (the name the client asked for, not the CNAME
// target it resolved through), and the ECH public names of its
// HTTPS/SVCB records.
func (n *Namer) Learn(d *classify.DNSMessage, t time.Time) {
	if !d.Response || d.QName == "" {
		return
	}
	for i := range d.Answers {
		if a := &d.Answers[i]; a.Addr.IsValid() {
			n.names.Add(a.Addr, d.QName, a.TTL, t)
		}
	}
	for _, name := range d.ECHPublicNames {
		n.names.AddECHPublicName(name)
	}
}
