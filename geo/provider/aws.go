package provider

import (
	"fmt"
	"net/netip"
	"strings"
)

func awsRanges(name string, p *probe) (File, error) {
	cf := File{Provider: AWS, Source: AWS + ":" + name}
	add := func(pfx, region, service, nbg string) error {
		pp, err := netip.ParsePrefix(pfx)
		if err != nil {
			return fmt.Errorf("aws prefix %q: %w", pfx, err)
		}
		// network_border_group is where the prefix is advertised from; for
		// Local and Wavelength Zones it names the zone, which may be in
		// another country than the region.
		loc := nbg
		if loc == "" {
			loc = region
		}
		r := Range{Prefix: pp.Masked(), Umbrella: service == "AMAZON",
			Cloud: Cloud{Provider: AWS, Region: region, Service: service, Source: cf.Source}}
		if loc != region {
			r.Cloud.Zone = loc
		}
		if strings.EqualFold(loc, "GLOBAL") || loc == "" {
			r.Global, r.Cloud.Region, r.Cloud.Zone = true, "", ""
		} else {
			r.Cloud.Country, _ = RegionCountry(AWS, loc)
		}
		cf.Ranges = append(cf.Ranges, r)
		return nil
	}
	for _, e := range p.Prefixes {
		if err := add(e.IPPrefix, e.Region, e.Service, e.NetworkBorderGroup); err != nil {
			return File{}, err
		}
	}
	for _, e := range p.IPv6Prefixes {
		if err := add(e.IPv6Prefix, e.Region, e.Service, e.NetworkBorderGroup); err != nil {
			return File{}, err
		}
	}
	return cf, nil
}
