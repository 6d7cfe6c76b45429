package provider

import (
	"fmt"
	"net/netip"
	"strings"
)

func azureRanges(name string, p *probe) (File, error) {
	cf := File{Provider: Azure, Source: Azure + ":" + name}
	for _, v := range p.Values {
		tag, region := v.Name, strings.ToLower(v.Properties.Region)
		service := tag
		if i := strings.IndexByte(tag, '.'); i >= 0 {
			service = tag[:i]
		}
		for _, s := range v.Properties.AddressPrefixes {
			pp, err := netip.ParsePrefix(s)
			if err != nil {
				return File{}, fmt.Errorf("azure tag %s prefix %q: %w", tag, s, err)
			}
			r := Range{Prefix: pp.Masked(), Umbrella: service == "AzureCloud",
				Cloud: Cloud{Provider: Azure, Region: region, Service: service, Source: cf.Source}}
			if region == "" {
				r.Global = true
			} else {
				r.Cloud.Country, _ = RegionCountry(Azure, region)
			}
			cf.Ranges = append(cf.Ranges, r)
		}
	}
	return cf, nil
}
