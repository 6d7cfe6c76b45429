package rules

import (
	"fmt"
	"net/netip"
	"slices"

	"gopkg.in/yaml.v3"
)

// services reads the file's services on top of the built-in ones (a
// service named like a built-in one adds to it), then adds the
// catalogues the same way.
func (p *parser) services(n *yaml.Node, cats []*Catalog) {
	byName := map[string]*Service{}
	add := func(s *Service) {
		p.pol.services = append(p.pol.services, s)
		byName[s.Name] = s
	}
	for _, s := range builtinServiceList(p.conv) {
		add(s)
	}
	for _, f := range p.named(n, "service", " (to: any means every egress destination)") {
		nerrs := len(p.errs)
		spec, ok := p.spec(f.v, "service "+f.key)
		if !ok && len(p.errs) == nerrs {
			p.errorf(f.k, "service %q matches nothing (give domains, hosts, asns or cidrs)", f.key)
			continue
		}
		if !ok {
			continue
		}
		src := fmt.Sprintf("%s:%d", p.file, f.k.Line)
		if s := byName[f.key]; s != nil {
			s.Spec = mergeSpec(s.Spec, spec)
			s.Source += "; " + src
			continue
		}
		add(&Service{Name: f.key, Source: src, Spec: spec})
	}
	for _, c := range cats {
		spec := ServiceSpec{Domains: c.Domains, Hosts: c.Hosts}
		if s := byName[c.Name]; s != nil {
			s.Spec = mergeSpec(s.Spec, spec)
			s.Source += "; catalog " + c.Source
			continue
		}
		add(&Service{Name: c.Name, Source: "catalog " + c.Source, Spec: spec})
	}
}

// builtinServiceList returns the built-in services, their domains
// converted by conv.
func builtinServiceList(conv idnaConverter) []*Service {
	var out []*Service
	for _, b := range builtinServices() {
		s := &Service{Name: b.name, Source: "builtin: " + b.source, builtin: true, edge: b.edge,
			Spec: ServiceSpec{ASNs: b.asns}}
		for _, d := range b.domains {
			a, err := conv.domain(d)
			if err != nil {
				panic("rules: built-in service " + b.name + ": " + err.Error())
			}
			s.Spec.Domains = append(s.Spec.Domains, a)
		}
		s.Spec.Hosts = b.hosts
		for _, c := range b.cidrs {
			s.Spec.CIDRs = append(s.Spec.CIDRs, netip.MustParsePrefix(c))
		}
		out = append(out, s)
	}
	return out
}

// spec reads a service body (domains, hosts, asns, cidrs).
func (p *parser) spec(n *yaml.Node, what string) (ServiceSpec, bool) {
	var s ServiceSpec
	fields := p.mapping(n, what, []string{"domains", "hosts", "asns", "cidrs"})
	for _, f := range fields {
		switch f.key {
		case "domains", "hosts":
			for _, c := range p.strings(f.v, what+" "+f.key) {
				if d, ok := p.domain(c); ok {
					if f.key == "domains" {
						s.Domains = append(s.Domains, d)
					} else {
						s.Hosts = append(s.Hosts, d)
					}
				}
			}
		case "asns":
			for _, c := range p.strings(f.v, what+" asns") {
				if a, ok := p.asn(c); ok {
					s.ASNs = append(s.ASNs, a)
				}
			}
		case "cidrs":
			s.CIDRs = append(s.CIDRs, p.prefixes(f.v, what+" cidrs")...)
		}
	}
	empty := len(s.Domains)+len(s.Hosts)+len(s.ASNs)+len(s.CIDRs) == 0
	return s, !empty
}
func mergeSpec(a, b ServiceSpec) ServiceSpec {
	return ServiceSpec{
		Domains: append(slices.Clip(a.Domains), b.Domains...),
		Hosts:   append(slices.Clip(a.Hosts), b.Hosts...),
		ASNs:    append(slices.Clip(a.ASNs), b.ASNs...),
		CIDRs:   append(slices.Clip(a.CIDRs), b.CIDRs...),
	}
}
