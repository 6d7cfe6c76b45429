package provider

import (
	"fmt"
	"net/netip"
	"strings"
)

func oracleRanges(name string, p *probe) (File, error) {
	cf := File{Provider: Oracle, Source: Oracle + ":" + name}
	for _, reg := range p.Regions {
		country, _ := RegionCountry(Oracle, reg.Region)
		for _, c := range reg.CIDRs {
			pp, err := netip.ParsePrefix(c.CIDR)
			if err != nil {
				return File{}, fmt.Errorf("oracle region %s cidr %q: %w", reg.Region, c.CIDR, err)
			}
			service := strings.Join(c.Tags, ",")
			cf.Ranges = append(cf.Ranges, Range{Prefix: pp.Masked(), Umbrella: service == "OCI",
				Global: reg.Region == "",
				Cloud: Cloud{Provider: Oracle, Region: reg.Region, Service: service,
					Country: country, Source: cf.Source}})
		}
	}
	return cf, nil
}
