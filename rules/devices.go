package rules

import (
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/egresswatch/egresswatch/flow"
)

// Group keys that match a device by what it is called rather than where
// it is: hostnames (globs on the name the device is known by, from DHCP,
// NBNS, LLMNR, mDNS or the inventory; case-insensitive) and inventory
// (the asset inventory's group column).

// deviceGroupKeys are the group keys this file reads.
var deviceGroupKeys = []string{"hostnames", "inventory"}

// hostPattern is one hostnames glob of a group, lower case.
type hostPattern struct {
	glob string
	idx  int
}

// groupDeviceKey reads one hostnames or inventory key of a group.
func (p *parser) groupDeviceKey(g *Group, key string, v *yaml.Node, what string) {
	switch key {
	case "hostnames":
		for _, c := range p.strings(v, what+" hostnames") {
			pat := strings.ToLower(strings.TrimSpace(c.Value))
			if _, err := path.Match(pat, ""); err != nil || strings.Contains(pat, "/") {
				p.errorf(c, "invalid hostname pattern %q (a name, or a glob with * ? [...])", c.Value)
				continue
			}
			g.Hostnames = append(g.Hostnames, pat)
		}
	case "inventory":
		for _, c := range p.strings(v, what+" inventory") {
			g.Inventory = append(g.Inventory, strings.TrimSpace(c.Value))
		}
	}
}

// indexDeviceKeys adds group idx's hostnames and inventory tags to the
// policy's indexes.
func (pol *Policy) indexDeviceKeys(g *Group, idx int) {
	for _, h := range g.Hostnames {
		pol.groupHosts = append(pol.groupHosts, hostPattern{h, idx})
	}
	for _, tag := range g.Inventory {
		pol.groupTags = append(pol.groupTags, hostPattern{tag, idx})
	}
}

// deviceGroups adds the groups the device is in by name or inventory tag.
func (p *Policy) deviceGroups(dev *flow.Device, out *bitset) {
	id := dev.ID
	if id == nil {
		return
	}
	if id.NameFold != "" {
		for _, h := range p.groupHosts {
			if ok, _ := path.Match(h.glob, id.NameFold); ok {
				out.set(h.idx)
			}
		}
	}
	if id.Group != "" {
		for _, t := range p.groupTags {
			if strings.EqualFold(t.glob, id.Group) {
				out.set(t.idx)
			}
		}
	}
}
