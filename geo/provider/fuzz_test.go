package provider

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds provider-file parsers arbitrary bytes; they must return
// an error or ranges with valid prefixes, never panic.
func FuzzParse(f *testing.F) {
	f.Add("cloudflare-ips-v4.txt", []byte("104.16.0.0/13\n172.64.0.0/13"))
	f.Add("geofeed.csv", []byte("# c\n5.101.96.0/21,NL,NL-NH,Amsterdam,1098 XH\n"))
	f.Add("a.json", []byte(`{"prefixes":[{"ip_prefix":"3.0.0.0/16","region":"eu-west-2","service":"EC2","network_border_group":"eu-west-2"}]}`))
	f.Add("g.json", []byte(`{"prefixes":[{"ipv4Prefix":"34.0.0.0/16","scope":"global"}]}`))
	f.Add("z.json", []byte(`{"values":[{"name":"A.b","properties":{"region":"uksouth","addressPrefixes":["1.0.0.0/8"]}}]}`))
	f.Add("o.json", []byte(`{"regions":[{"region":"uk-london-1","cidrs":[{"cidr":"79.72.64.0/19","tags":["OCI"]}]}]}`))
	// Heads of the real files, when present.
	if ents, err := os.ReadDir("../../../shared/geo/cloud"); err == nil {
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join("../../../shared/geo/cloud", e.Name()))
			if err == nil && len(b) < 300000 {
				f.Add(e.Name(), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		cf, err := Parse(name, data)
		if err != nil {
			return
		}
		for _, r := range cf.Ranges {
			if !r.Prefix.IsValid() || r.Prefix != r.Prefix.Masked() {
				t.Fatalf("invalid prefix %v", r.Prefix)
			}
		}
	})
}
