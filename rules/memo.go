package rules

import (
	"net/netip"
	"slices"
)

// EgressMemo gives Policy.Egress's answers, remembering the services it
// found by destination and the group lists by membership: a sensor ends
// many flows to the same few destinations from devices in the same few
// groups, and a flow's end is on the merger's path. It belongs to one
// goroutine. The Groups slices it returns are shared: read-only.
type EgressMemo struct {
	pol    *Policy
	svc    map[memoKey]string
	groups map[bitset][]string
}

type memoKey struct {
	name string
	dst  netip.Addr
	asn  uint32
}

// memoMax bounds each of a memo's tables; a full table starts again.
const memoMax = 1 << 15

// Egress is p.Egress(in). A memo asked about another policy than last
// time forgets what it knew.
func (m *EgressMemo) Egress(p *Policy, in *Input) Egress {
	if p != m.pol || m.svc == nil {
		m.pol, m.svc, m.groups = p, make(map[memoKey]string), make(map[bitset][]string)
	}
	if p.IsInternal(in.Dst) {
		return Egress{Internal: true}
	}
	var b bitset
	p.groupSet(in.Src, &in.Device, &b)
	g, ok := m.groups[b]
	if !ok {
		g = slices.Clip(p.appendGroups(&b, nil))
		remember(m.groups, b, g)
	}
	k := memoKey{in.Name, in.Dst, in.Place.ASN}
	s, ok := m.svc[k]
	if !ok {
		s = p.Service(in.Name, in.Dst, in.Place.ASN)
		remember(m.svc, k, s)
	}
	return Egress{Groups: g, Service: s}
}

func remember[K comparable, V any](t map[K]V, k K, v V) {
	if len(t) >= memoMax {
		clear(t)
	}
	t[k] = v
}
