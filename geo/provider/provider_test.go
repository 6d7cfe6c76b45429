package provider

import (
	"os"
	"strings"
	"testing"
)

// TestParseErrors: files that are no provider format, or a broken one,
// are errors.
func TestParseErrors(t *testing.T) {
	for _, bad := range []struct{ name, body string }{
		{"ranges.txt", "104.16.0.0/13\n"}, // plain list without a provider name
		{"x.json", `{"foo":1}`},
		{"x.json", `{"prefixes":[{"ip_prefix":"3.0.0.0/33","region":"x"}]}`},
		{"notes.txt", "hello\n"},
		{"cloudflare.txt", "104.16.0.0/13\nnot-a-prefix\n"},
	} {
		if _, err := Parse(bad.name, []byte(bad.body)); err == nil {
			t.Errorf("Parse(%s, %q) succeeded, want an error", bad.name, bad.body)
		}
	}
}

// TestRegionTableCoversFiles checks that every region and network border
// group in the provider files is in the built-in table (possibly as
// "location not published").
func TestRegionTableCoversFiles(t *testing.T) {
	dir := "../../../shared/geo/cloud"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared reference data not found at %s (../shared beside the repo): %v", dir, err)
	}
	files, err := ParseDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		table := regionTable(f.Provider)
		if table == nil {
			continue // geofeeds and Cloudflare carry no region names
		}
		for _, r := range f.Ranges {
			for _, name := range []string{r.Cloud.Region, r.Cloud.Zone} {
				if name == "" || r.Global || seen[f.Provider+"/"+name] {
					continue
				}
				seen[f.Provider+"/"+name] = true
				if _, ok := table[name]; !ok {
					t.Errorf("%s region %q (in %s) missing from the region table", f.Provider, name, f.Source)
				}
			}
		}
	}
	if len(seen) < 200 {
		t.Errorf("only %d regions seen in the provider files, want over 200", len(seen))
	}
	for name, table := range map[string]map[string]string{"aws": awsRegions, "azure": azureRegions, "gcp": gcpRegions, "oracle": oracleRegions} {
		for region, cc := range table {
			if cc != "" && (len(cc) != 2 || strings.ToUpper(cc) != cc) {
				t.Errorf("%s region %s: country %q is not ISO 3166-1 alpha-2", name, region, cc)
			}
		}
	}
}
