package rules

import (
	"net/netip"
	"strings"

	"github.com/egresswatch/egresswatch/flow"
)

// IsInternal reports whether a is one of the policy's internal prefixes, or
// an address that is never egress (loopback, link-local, multicast,
// broadcast, unspecified).
func (p *Policy) IsInternal(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	for _, n := range p.Internal {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// groupSet computes the groups a device is in.
func (p *Policy) groupSet(src netip.Addr, dev *flow.Device, out *bitset) {
	if src.IsValid() {
		src = src.Unmap()
		for _, g := range p.groupCIDRs {
			if g.p.Contains(src) {
				out.set(g.idx)
			}
		}
	}
	if len(p.groupVLAN) > 0 {
		for _, v := range dev.VLANs() {
			if b, ok := p.groupVLAN[v&0x0fff]; ok {
				out.or(&b)
			}
		}
	}
	p.deviceGroups(dev, out)
	if dev.HasMAC {
		mac := &dev.MAC
		if b, ok := p.groupMAC[*mac]; ok {
			out.or(&b)
		}
		if b, ok := p.groupOUI[[3]byte{mac[0], mac[1], mac[2]}]; ok {
			out.or(&b)
		}
	}
}

// Groups appends to dst the names of the groups the device at address src
// is in, in file order.
func (p *Policy) Groups(src netip.Addr, dev *flow.Device, dst []string) []string {
	var b bitset
	p.groupSet(src, dev, &b)
	return p.appendGroups(&b, dst)
}

// appendGroups appends the names of the groups in b to dst, in file order.
func (p *Policy) appendGroups(b *bitset, dst []string) []string {
	if b.empty() {
		return dst
	}
	for i, g := range p.groups {
		if b.has(i) {
			dst = append(dst, g.Name)
		}
	}
	return dst
}

// Service returns the first service (built-ins first, then the file's, in
// order) that the destination belongs to by name, address or AS number;
// "" if none. name may be in any case, with a trailing dot, or in Unicode.
func (p *Policy) Service(name string, dst netip.Addr, asn uint32) string {
	var buf [256]byte
	var b bitset
	n, _ := p.idna.normName(name, &buf)
	p.svc.match(n, dst, asn, &b)
	return p.firstService(&b)
}

// IsEncryptedDNS reports whether the destination is a public DNS
// resolver reached over HTTPS, TLS or QUIC: whether its service, as
// Service finds it, is the built-in encrypted-dns service (which a policy
// may extend).
func (p *Policy) IsEncryptedDNS(name string, dst netip.Addr, asn uint32) bool {
	return p.Service(name, dst, asn) == encryptedDNSService
}

func (p *Policy) firstService(b *bitset) string {
	if b.empty() {
		return ""
	}
	for i, s := range p.services {
		if b.has(i) && !s.hidden {
			return s.Name
		}
	}
	return ""
}

// Evaluate appends to dst a Match for every rule the input breaks, in rule
// order. It reads in and does not keep it. It does not allocate unless a
// rule fires.
func (p *Policy) Evaluate(in *Input, dst []Match) []Match {
	var groups bitset
	p.groupSet(in.Src, &in.Device, &groups)
	if groups.empty() {
		return dst
	}
	if in.Dst.IsValid() && p.IsInternal(in.Dst) {
		return dst // internal destinations are never egress
	}
	if !in.Dst.IsValid() && in.Kind != KindDNSQuery {
		return dst
	}
	var buf [256]byte
	var svcs bitset
	name, _ := p.idna.normName(in.Name, &buf)
	p.svc.match(name, in.Dst, in.Place.ASN, &svcs)

	for _, r := range p.Rules {
		if !r.from.intersects(&groups) {
			continue
		}
		service := ""
		if r.Any {
			if in.Kind == KindDNSQuery {
				continue // resolving a name is not egress; the query's own flow is
			}
		} else {
			i := r.to.firstAnd(&svcs)
			if i < 0 {
				continue
			}
			service = p.services[i].Name
		}
		if r.except >= 0 && svcs.has(r.except) {
			continue
		}
		m := Match{Rule: r, Service: service, Allowed: r.Allow, Severity: r.Severity,
			Country: in.Place.Country, DNSOnly: in.Kind == KindDNSQuery}
		if r.hasAllow {
			indeterminate := in.Place.Indeterminate || in.Place.Country == "" || !in.Dst.IsValid()
			if indeterminate {
				switch r.Indeterminate {
				case IndeterminateIgnore:
					continue
				case IndeterminateWarn:
					m.Severity = m.Severity.warn()
				}
				m.Indeterminate = true
			} else if r.allow.has(in.Place.Country) {
				continue
			}
		}
		if m.DNSOnly {
			m.Severity = r.Severity.warn()
		}
		m.DstService = p.firstService(&svcs)
		m.Groups = p.matchedGroups(&groups, &r.from)
		dst = append(dst, m)
	}
	return dst
}

// Message returns one human sentence for the alert: who, what service,
// where, and why. in must be the Input that produced m.
func (m *Match) Message(in *Input) string {
	var b strings.Builder
	b.WriteString("Device ")
	if name := in.Device.Name(); name != "" {
		b.WriteString(name) // "Device GOV-LT-0412 (10.12.40.87)"
		b.WriteString(" (")
		b.WriteString(in.Src.String())
		b.WriteString(")")
	} else {
		b.WriteString(in.Src.String())
	}
	if len(m.Groups) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(m.Groups, ", "))
		b.WriteString(")")
	}
	if m.DNSOnly {
		b.WriteString(" looked up ")
	} else {
		b.WriteString(" contacted ")
	}
	svc := m.Service
	if svc == "" {
		svc = m.DstService
	}
	if svc != "" {
		b.WriteString(svc)
		b.WriteString(" at ")
	}
	switch {
	case in.Name != "" && in.Dst.IsValid():
		b.WriteString(in.Name)
		b.WriteString(" (")
		b.WriteString(in.Dst.String())
		b.WriteString(")")
	case in.Name != "":
		b.WriteString(in.Name)
	default:
		b.WriteString(in.Dst.String())
	}
	switch {
	case m.Indeterminate:
		b.WriteString(", whose location is indeterminate")
		if in.Place.Reason != "" {
			b.WriteString(" (")
			b.WriteString(in.Place.Reason)
			b.WriteString(")")
		}
	case m.Country != "":
		b.WriteString(", placed in ")
		b.WriteString(m.Country)
	}
	if m.Rule.hasAllow {
		if m.Indeterminate {
			b.WriteString(", so it may be outside ")
		} else {
			b.WriteString(", outside ")
		}
		b.WriteString(strings.Join(m.Allowed, ", "))
	}
	if m.DNSOnly {
		b.WriteString("; no connection seen yet")
	}
	b.WriteString(": ")
	b.WriteString(m.Rule.Name)
	b.WriteString(".")
	return b.String()
}

// matchedGroups names the groups in both sets. A single group (the usual
// case) is a sub-slice of the policy's name list, so it does not allocate.
func (p *Policy) matchedGroups(a, b *bitset) []string {
	var out []string
	first, n := -1, 0
	for i := range p.groups {
		if a.has(i) && b.has(i) {
			if n == 0 {
				first = i
			}
			n++
		}
	}
	if n == 1 {
		return p.groupNames[first : first+1 : first+1]
	}
	for i, name := range p.groupNames {
		if a.has(i) && b.has(i) {
			out = append(out, name)
		}
	}
	return out
}

// Egress is what a report counts of a flow: whether it leaves the
// network at all, the groups of its source device and the service it
// reaches.
type Egress struct {
	Internal bool     // the destination is internal: not egress
	Groups   []string // the source device's groups, in file order
	Service  string   // the destination's first service ("" if none)
}

// Egress describes the flow in. It reads in.Src, in.Device, in.Dst,
// in.Name and in.Place.ASN, nothing else.
func (p *Policy) Egress(in *Input) Egress { return p.egress(in, nil) }

// egress is Egress, with the group lists from m (nil: a new list each).
func (p *Policy) egress(in *Input, m *EgressMemo) Egress {
	if p.IsInternal(in.Dst) {
		return Egress{Internal: true}
	}
	var b bitset
	p.groupSet(in.Src, &in.Device, &b)
	return Egress{Groups: m.groupList(p, &b), Service: p.Service(in.Name, in.Dst, in.Place.ASN)}
}

// MayAlert reports whether a rule could fire on a flow from the device at
// src to dst: the device is in a group and the destination is not
// internal. It does not allocate.
func (p *Policy) MayAlert(src netip.Addr, dev *flow.Device, dst netip.Addr) bool {
	var b bitset
	p.groupSet(src, dev, &b)
	return !b.empty() && !p.IsInternal(dst)
}
