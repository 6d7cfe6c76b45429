package provider

import (
	"fmt"
	"net/netip"
)

func gcpRanges(name string, p *probe) (File, error) {
	cf := File{Provider: GCP, Source: GCP + ":" + name}
	for _, e := range p.Prefixes {
		s := e.IPv4Prefix
		if s == "" {
			s = e.IPv6Prefix
		}
		pp, err := netip.ParsePrefix(s)
		if err != nil {
			return File{}, fmt.Errorf("gcp prefix %q: %w", s, err)
		}
		r := Range{Prefix: pp.Masked(),
			Cloud: Cloud{Provider: GCP, Region: e.Scope, Service: e.Service, Source: cf.Source}}
		if e.Scope == "" || e.Scope == "global" {
			r.Global, r.Cloud.Region = true, ""
		} else {
			r.Cloud.Country, _ = RegionCountry(GCP, e.Scope)
		}
		cf.Ranges = append(cf.Ranges, r)
	}
	return cf, nil
}
