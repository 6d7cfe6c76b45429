package rules

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// groups reads the device groups rules apply to (from:) and indexes them
// by CIDR, VLAN and MAC.
func (p *parser) groups(n *yaml.Node) {
	for _, f := range p.named(n, "group", "") {
		g := p.group(f)
		if len(p.pol.groups) >= maxSets {
			p.errorf(f.k, "too many groups (at most %d)", maxSets)
			continue
		}
		p.pol.addGroup(g)
	}
}

// group reads one group's body.
func (p *parser) group(f field) *Group {
	g := &Group{Name: f.key, Pos: p.pos(f.k)}
	nerrs := len(p.errs)
	what := "group " + f.key
	for _, gf := range p.mapping(f.v, what, append([]string{"cidrs", "vlans", "macs"}, deviceGroupKeys...)) {
		switch gf.key {
		case "hostnames", "inventory":
			p.groupDeviceKey(g, gf.key, gf.v, what)
		case "cidrs":
			g.CIDRs = append(g.CIDRs, p.prefixes(gf.v, what+" cidrs")...)
		case "vlans":
			for _, c := range p.strings(gf.v, what+" vlans") {
				v, err := strconv.ParseUint(c.Value, 10, 16)
				if err != nil || v < 1 || v > 4094 {
					p.errorf(c, "invalid VLAN %q (want 1 to 4094)", c.Value)
					continue
				}
				g.VLANs = append(g.VLANs, uint16(v))
			}
		case "macs":
			for _, c := range p.strings(gf.v, what+" macs") {
				if m, ok := p.mac(c); ok {
					g.MACs = append(g.MACs, m)
				}
			}
		}
	}
	if len(g.CIDRs)+len(g.VLANs)+len(g.MACs)+len(g.Hostnames)+len(g.Inventory) == 0 && len(p.errs) == nerrs {
		p.errorf(f.k, "group %q matches no device (give cidrs, vlans, macs, hostnames or inventory)", f.key)
	}
	return g
}

// addGroup appends g and indexes its CIDRs, VLANs and MACs.
func (pol *Policy) addGroup(g *Group) {
	idx := len(pol.groups)
	pol.groups = append(pol.groups, g)
	pol.groupNames = append(pol.groupNames, g.Name)
	pol.indexDeviceKeys(g, idx)
	for _, c := range g.CIDRs {
		pol.groupCIDRs = append(pol.groupCIDRs, prefixIndex{c, idx})
	}
	for _, v := range g.VLANs {
		b := pol.groupVLAN[v]
		b.set(idx)
		pol.groupVLAN[v] = b
	}
	for _, m := range g.MACs {
		if m.Len == 6 {
			b := pol.groupMAC[m.Addr]
			b.set(idx)
			pol.groupMAC[m.Addr] = b
		} else {
			k := [3]byte{m.Addr[0], m.Addr[1], m.Addr[2]}
			b := pol.groupOUI[k]
			b.set(idx)
			pol.groupOUI[k] = b
		}
	}
}
